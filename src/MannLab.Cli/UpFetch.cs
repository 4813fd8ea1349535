using MannLab.Data;

namespace MannLab.Cli;

/// <summary>
/// <c>up</c> getting Omniglot itself: once a run of its folder needs it where
/// <c>mannlab data fetch omniglot</c> puts it and it is not there, the same download, in the
/// background, with its progress in the log. Tried once per <c>up</c>: a fetch that fails (as on
/// an offline machine) is one line in the log, and the runs wait for the data to come another way.
/// </summary>
public sealed class UpFetch(OmniglotFetcher.Source source, Action<string> log) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _fetch;

    /// <summary>A download is under way: the runs waiting for it may soon be runnable.</summary>
    public bool Busy => _fetch is { IsCompleted: false };

    /// <summary>Starts the download when some of <paramref name="missing"/> is what it supplies, unless it was tried already.</summary>
    public void StartFor(IReadOnlyCollection<MissingData> missing)
    {
        var needing = missing.Count(m => m.Fetchable);
        if (_fetch is not null || needing == 0) return;
        _fetch = Task.Run(() => FetchAsync(needing));
    }

    private async Task FetchAsync(int runs)
    {
        var destination = Datasets.FetchedOmniglot;
        log($"Omniglot: {runs} run(s) need it; fetching it from {source.Url} into {destination}");
        try
        {
            using var http = OmniglotFetcher.Client();
            var outcomes = await OmniglotFetcher.FetchAsync(source, destination, new LoggedProgress(log), http, _stop.Token);
            log($"Omniglot: {string.Join(", ", outcomes.Select(o => $"{o.File} {o.Outcome}"))}, checksums verified");
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // `up` is stopping; the .part files let the next fetch resume
        }
        catch (Exception e) when (e is DataException or HttpRequestException or IOException or UnauthorizedAccessException or TaskCanceledException)
        {
            log($"Omniglot: cannot fetch it ({e.Message.ReplaceLineEndings(" ")}); its runs wait until `./mannlab data fetch omniglot` " +
                "or MANNLAB_OMNIGLOT=/path/to/omniglot supplies it");
        }
    }

    /// <summary>A log line per fifth of each archive.</summary>
    private sealed class LoggedProgress(Action<string> log) : IProgress<OmniglotFetcher.Progress>
    {
        private readonly Dictionary<string, long> _fifths = [];

        public void Report(OmniglotFetcher.Progress p)
        {
            var fifth = p.Total is { } total and > 0 ? 5 * p.Done / total : 0;
            if (_fifths.TryGetValue(p.File, out var logged) && logged >= fifth) return;
            _fifths[p.File] = fifth;
            log("Omniglot: " + p);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _fetch?.GetAwaiter().GetResult();
        _stop.Dispose();
    }
}
