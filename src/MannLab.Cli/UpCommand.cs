using System.CommandLine;
using MannLab.Data;
using MannLab.Jobs;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary>
/// <c>mannlab up</c>: the whole lab on one machine. Starts (or reuses) the embedded PostgreSQL and
/// migrates it, starts workers (one per core), the web host with the Hangfire dashboard, queues
/// the experiments folder and keeps watching it, fetches Omniglot when a run needs it, and shows
/// progress until Ctrl-C, which checkpoints the running runs; the next <c>up</c> resumes them.
/// </summary>
public static class UpCommand
{
    public static Command Create()
    {
        var experiments = new Option<string>("--experiments") { Description = "The folder of specs to queue and watch", DefaultValueFactory = _ => "experiments" };
        var exitWhenDone = new Option<bool>("--exit-when-done")
        {
            Description = "Exit once no run of the folder is left to train (each finished, or waiting for data): 0 if all succeeded and every file is valid, 1 otherwise",
        };
        var fetchFrom = DataCommands.SourceOptions.Create("data-");
        var web = ServeCommand.WebOptions();
        var queues = WorkerCommand.QueuesOption();
        var workers = WorkerCommand.WorkersOption();
        var db = JobCommandSupport.DbOption();
        var listen = new Option<string?>("--listen")
        {
            Description = "Share MannLab's PostgreSQL with other machines: listen on this address of this machine (ADDRESS[:PORT], port 5432 by default), " +
                          "by password; prints the command a worker elsewhere runs",
        };
        var allow = new Option<string?>("--allow") { Description = "With --listen: the network whose clients are let in (default: that of the interface holding the address)" };
        var command = new Command("up", "Run the lab: database, workers, the web pages at http://127.0.0.1:8470/ (jobs at /hangfire), and the experiments folder queued and watched");
        foreach (var option in new Option[] { experiments, exitWhenDone, queues, workers, db, listen, allow }.Concat(fetchFrom.All).Concat(web.All))
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            if (WorkerCommand.Validate(parse.GetValue(queues)!, parse.GetValue(workers)) is not { } devices) return 1;
            var folder = parse.GetValue(experiments)!;
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"error: --experiments {folder}: no such folder");
                return 1;
            }
            OmniglotFetcher.Source source;
            SharedServer? shared;
            try
            {
                source = fetchFrom.Resolve(parse);
                shared = parse.GetValue(listen) is { } address ? SharedServer.Parse(address, parse.GetValue(allow))
                    : parse.GetValue(allow) is { } alone ? throw new FormatException($"--allow {alone}: applies with --listen only") : null;
            }
            catch (Exception e) when (e is DataException or FormatException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
            return Run(folder, parse.GetValue(exitWhenDone), parse, web, devices, parse.GetValue(workers), parse.GetValue(db), source, shared)
                .GetAwaiter().GetResult();
        });
        return command;
    }

    private static async Task<int> Run(string folder, bool exitWhenDone, ParseResult parse, ServeCommand.Options webOptions, string[] devices, int workers,
        string? db, OmniglotFetcher.Source source, SharedServer? shared)
    {
        using var stop = new JobCommandSupport.StopSignal("stopping: running runs checkpoint; `mannlab up` again resumes them...");
        var board = new StatusBoard();
        using var jobs = JobCommandSupport.Open(db, board.Log, shared);
        if (jobs is null) return 1;
        board.Log(jobs.Database.EmbeddedFolder is { } embedded ? $"database: MannLab's PostgreSQL in {embedded}" : "database: " + jobs.Database.AsUri());
        if (jobs.Database.SharedUri is { } uri) board.Log($"another machine joins with: mannlab worker --db '{uri}'");
        await using var web = await ServeCommand.Start(jobs, parse, webOptions, board.Log);
        if (web is null) return 1;
        using var watcher = new ExperimentWatcher(folder, jobs.Queue, board.Report, board.Log);
        // Queue the whole folder before any worker starts: workers take the most urgent queue
        // first, so the quickstart is not stuck behind a paper-sized run that got there first.
        await watcher.ScanAsync(stop.Token);
        using var workerHost = jobs.StartWorkers(devices, workers, board.Log);
        board.Log($"{workers} worker(s) on queue(s) {string.Join(",", devices)}; watching {folder}");
        using var fetch = new UpFetch(source, board.Log);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var watch = watcher.WatchAsync(watching.Token);
        var exit = 0;
        var outage = new OutageReport(board.Log);
        try
        {
            while (!stop.Token.IsCancellationRequested)
            {
                var specs = watcher.Files.OfType<FileOutcome.Queued>().SelectMany(f => f.Runs).DistinctBy(r => r.Id).ToDictionary(r => r.Id, r => r.Spec);
                IReadOnlyList<StoredRun> runs;
                try
                {
                    runs = await jobs.Queries.ListAsync(ids: specs.Keys);
                    outage.Back();
                }
                catch (Exception e) when (DatabaseOutage.Is(e))
                {
                    // Training goes on meanwhile (see the README, "When the database is away").
                    outage.Unreachable(e, "; waiting for it to come back");
                    stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
                    continue;
                }
                board.Show(runs);
                // As this process sees it, which is as its workers (and their training processes) do.
                var missing = runs.Where(r => !r.Finished).Select(r => (r.Id, Missing: MissingData.Of(specs[r.Id].Dataset)))
                    .Where(m => m.Missing is not null).ToDictionary(m => m.Id, m => m.Missing!);
                fetch.StartFor(missing.Values);
                if (exitWhenDone && watch.IsCompleted) throw new InvalidOperationException("the experiments watcher stopped", watch.Exception);
                if (exitWhenDone && watcher.Scanned && !fetch.Busy && runs.All(r => r.Finished || r.Status == RunStatus.Waiting && missing.ContainsKey(r.Id)))
                {
                    RunsCommand.Write(Console.Out, runs);
                    var invalid = watcher.Files.OfType<FileOutcome.Invalid>().Count();
                    var (succeeded, waiting) = (runs.Count(r => r.Status == RunStatus.Succeeded), runs.Count(r => r.Status == RunStatus.Waiting));
                    exit = succeeded == runs.Count && invalid == 0 ? 0 : 1;
                    board.Log(exit == 0 ? $"all {runs.Count} run(s) succeeded" :
                        $"done: {succeeded} of {runs.Count} run(s) succeeded" + (waiting > 0 ? $", {waiting} waiting for data (see above)" : "") +
                        (invalid > 0 ? $", {invalid} invalid file(s)" : ""));
                    break;
                }
                stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
        finally
        {
            watching.Cancel();
            await watch;
            board.End();
        }
        board.Log("stopping workers (running runs checkpoint first)...");
        return exit;
    }

    /// <summary>
    /// The terminal view: one line per event (a file queued or invalid, a run started or finished
    /// with its accuracies), and a status line of the running runs, rewritten in place on a
    /// terminal and printed every 30 seconds to a pipe or log.
    /// </summary>
    private sealed class StatusBoard
    {
        private readonly bool _terminal = !Console.IsOutputRedirected;
        private readonly Dictionary<string, string> _status = [];
        private readonly Lock _gate = new();
        private DateTime _lastLine = DateTime.MinValue;
        private bool _open;

        public void Log(string message)
        {
            lock (_gate)
            {
                EndLine();
                Console.WriteLine(JobCommandSupport.Timestamped(message));
            }
        }

        public void Report(FileOutcome outcome)
        {
            switch (outcome)
            {
                case FileOutcome.Queued queued:
                    Log($"{queued.File}: {SubmitCommand.Describe(queued)}");
                    break;
                case FileOutcome.Invalid invalid:
                    lock (_gate)
                    {
                        EndLine();
                        foreach (var error in invalid.Errors) Console.Error.WriteLine(error);
                        Console.Error.WriteLine($"{invalid.File}: invalid, nothing of it queued; fix it and save to queue it");
                    }
                    break;
            }
        }

        public void Show(IReadOnlyList<StoredRun> runs)
        {
            foreach (var run in runs)
            {
                var known = _status.TryGetValue(run.Id, out var before);
                if (known && before == run.Status) continue;
                _status[run.Id] = run.Status;
                if (!known && run.Status is RunStatus.Queued) continue; // the file's line said so
                Log($"run {run.Id} {run.Name} [{RunsCommand.Point(run)}]: " + run.Status switch
                {
                    RunStatus.Succeeded => $"{run.Status}: {Accuracies(run)}",
                    RunStatus.Failed => $"{run.Status}: {run.Error?.Split('\n')[0]}",
                    RunStatus.Running => $"{run.Status} (attempt {run.Attempt}, from episode {run.EpisodesDone})",
                    RunStatus.Waiting => run.WaitReason ?? run.Status,
                    _ => run.Status,
                });
            }
            var now = DateTime.UtcNow;
            if (now - _lastLine < TimeSpan.FromSeconds(_terminal ? 1 : 30)) return;
            _lastLine = now;
            var counts = string.Join(", ", RunStatus.All
                .Select(s => (s, n: runs.Count(r => r.Status == s))).Where(x => x.n > 0).Select(x => $"{x.n} {x.s}"));
            var running = string.Join(" | ", runs.Where(r => r.Status == RunStatus.Running)
                .Select(r => $"{r.Id[..6]} {RunsCommand.Progress(r)} {Accuracies(r)}".TrimEnd()));
            var line = $"runs: {(counts == "" ? "none yet" : counts)}{(running == "" ? "" : " | " + running)}";
            lock (_gate)
            {
                if (_terminal)
                {
                    var width = Math.Max(20, Console.WindowWidth - 1);
                    Console.Write("\r" + (line.Length > width ? line[..width] : line.PadRight(width)));
                    _open = true;
                }
                else
                {
                    Console.WriteLine(JobCommandSupport.Timestamped(line));
                }
            }
        }

        private static string Accuracies(StoredRun run) =>
            string.Join(" ", run.EvaluatedSights.Select(k => $"{RunFormat.Ordinal(k)} {RunFormat.Percent(run.EvalAccuracy(k)) ?? "-"}%"));

        public void End()
        {
            lock (_gate) EndLine();
        }

        private void EndLine()
        {
            if (_open) Console.WriteLine();
            _open = false;
        }
    }
}
