using System.Security.Cryptography;
using System.Text;
using MannLab.Spec;
using MannLab.Storage;
using Npgsql;
using Task = System.Threading.Tasks.Task;

namespace MannLab.Jobs;

/// <summary>What happened to one spec file when it was queued.</summary>
public abstract record FileOutcome(string File)
{
    /// <summary>Valid: its runs are recorded; <paramref name="Added"/> are the ids of the ones new to the database.</summary>
    public sealed record Queued(string File, IReadOnlyList<Run> Runs, IReadOnlyList<string> Added) : FileOutcome(File);

    /// <summary>Invalid: nothing of it was queued.</summary>
    public sealed record Invalid(string File, IReadOnlyList<string> Errors) : FileOutcome(File);
}

/// <summary>
/// Spec files into runs: each valid file's whole sweep is recorded in one transaction (a file whose
/// resolved spec is known already adds nothing), then the dispatcher gives the new runs their jobs.
/// An invalid file is reported with every error and queues nothing.
/// </summary>
public sealed class ExperimentQueue(RunStore store, RunDispatcher dispatcher)
{
    public static FileOutcome.Invalid? Check(string file, string text, out ExperimentFile? experiment)
    {
        var parsed = Experiments.parse(file, text);
        experiment = parsed.IsOk ? parsed.ResultValue : null;
        return parsed.IsOk ? null : new FileOutcome.Invalid(file, [.. parsed.ErrorValue.Select(e => e.ToString())]);
    }

    public async Task<FileOutcome.Queued> RegisterAsync(ExperimentFile experiment, CancellationToken cancel = default)
    {
        var added = await store.RegisterAsync(experiment, cancel);
        return new FileOutcome.Queued(experiment.File, [.. experiment.Runs], added);
    }

    public Task<IReadOnlyList<string>> DispatchAsync(CancellationToken cancel = default) => dispatcher.DispatchAsync(cancel);
}

/// <summary>
/// Keeps an experiments folder queued: every *.yaml/*.yml below it, at start and whenever one is
/// added or changed (a file system watcher wakes the scan; a periodic scan catches what watchers
/// miss on network and container file systems). A file is read again only when its bytes change.
/// Deleting a file deletes nothing: its runs and results stay in the database.
/// </summary>
public sealed class ExperimentWatcher(string folder, ExperimentQueue queue, Action<FileOutcome> report, Action<string>? log = null) : IDisposable
{
    private readonly Dictionary<string, (string Hash, FileOutcome Outcome)> _seen = [];
    private readonly SemaphoreSlim _wake = new(0);
    private FileSystemWatcher? _watcher;

    /// <summary>The files as last scanned: what each queued, or why it is invalid.</summary>
    public IReadOnlyCollection<FileOutcome> Files => [.. _seen.Values.Select(v => v.Outcome)];

    /// <summary>Whether the folder has been scanned completely at least once.</summary>
    public bool Scanned { get; private set; }

    /// <summary>Scans the folder once; returns whether anything changed.</summary>
    public async Task<bool> ScanAsync(CancellationToken cancel = default)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such experiments folder");
        var files = Experiments.discover([folder]).ToList();
        var changed = false;
        foreach (var gone in _seen.Keys.Except(files).ToList())
        {
            _seen.Remove(gone);
            log?.Invoke($"{gone}: removed; its runs and results stay in the database");
            changed = true;
        }
        var added = false;
        foreach (var file in files)
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(file, cancel);
            }
            catch (IOException)
            {
                continue; // being written or removed right now: the next scan reads it
            }
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
            if (_seen.TryGetValue(file, out var seen) && seen.Hash == hash) continue;
            FileOutcome outcome = ExperimentQueue.Check(file, text, out var experiment) is { } invalid
                ? invalid
                : await queue.RegisterAsync(experiment!, cancel);
            _seen[file] = (hash, outcome);
            added |= outcome is FileOutcome.Queued { Added.Count: > 0 };
            changed = true;
            report(outcome);
        }
        if (added) await queue.DispatchAsync(cancel);
        Scanned = true;
        return changed;
    }

    /// <summary>Scans now, then whenever the folder changes (and every few seconds), until cancelled.</summary>
    public async Task WatchAsync(CancellationToken cancel)
    {
        _watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = true, EnableRaisingEvents = true };
        _watcher.Changed += (_, _) => Wake();
        _watcher.Created += (_, _) => Wake();
        _watcher.Renamed += (_, _) => Wake();
        _watcher.Deleted += (_, _) => Wake();
        while (!cancel.IsCancellationRequested)
        {
            try
            {
                await ScanAsync(cancel);
                if (await _wake.WaitAsync(TimeSpan.FromSeconds(5), cancel))
                {
                    // Editors save in several steps: let the burst settle before reading.
                    await Task.Delay(300, cancel);
                    while (_wake.CurrentCount > 0) await _wake.WaitAsync(cancel);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (NpgsqlException e)
            {
                log?.Invoke($"queueing {folder} failed ({e.Message}); trying again shortly");
                await Task.Delay(TimeSpan.FromSeconds(5), cancel).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _wake.Dispose();
    }
}
