using System.ComponentModel;
using Hangfire;
using Hangfire.Server;
using Hangfire.States;
using MannLab.Runs;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs;

/// <summary>A run failed for a reason that a retry would not change (a diverged loss, bad data, repeated crashes).</summary>
public sealed class RunFailedException(string message) : Exception(message);

/// <summary>The training process died (a crash, a kill): the run resumes from its checkpoint on the next attempt.</summary>
public sealed class TrainingProcessDiedException(string message) : Exception(message);

/// <summary>
/// The Hangfire job of one run. A job requeued by hand in the dashboard retries its run. A run
/// whose data is missing here waits instead of training. Otherwise the job takes the run's lease
/// (a duplicate delivery finds it taken and ends), trains the run in a child process, renews the
/// lease on every heartbeat, and stops the child, which checkpoints, when the run is cancelled
/// (<c>mannlab cancel</c>, or the job deleted in the dashboard) or the worker shuts down. On
/// shutdown the job goes back to its queue and the run resumes from its checkpoint wherever it is
/// picked up next. The job, not the child, records how the run ended.
/// </summary>
public sealed class RunJob(NpgsqlDataSource db, string connectionString, JobSettings settings, JobStorage storage, Action<string>? log = null)
{
    /// <summary>A run whose training process died this many times fails instead of resuming again.</summary>
    public const int MaxCrashes = 3;

    private readonly RunLeases _leases = new(db);
    private readonly DataWaits _waits = new(new RunLeases(db), new RunQueries(db));
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TrainingProcess, string> _live = new();

    /// <summary>
    /// The last word on stopping: training processes whose jobs Hangfire gave up waiting for are
    /// asked to stop, and killed if they don't within <paramref name="grace"/>, so none outlives
    /// its worker (or the database the worker is about to stop).
    /// </summary>
    public void StopAll(TimeSpan grace)
    {
        foreach (var child in _live.Keys) child.RequestStop();
        var deadline = DateTime.UtcNow + grace;
        foreach (var child in _live.Keys)
            if (child.WaitForExit(Max(TimeSpan.Zero, deadline - DateTime.UtcNow)) is null) child.Kill();
        static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
    }

    [DisplayName("train run {0}")]
    [AutomaticRetry(Attempts = MaxCrashes, DelaysInSeconds = [5, 30, 120], ExceptOn = [typeof(RunFailedException)],
        OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [KeepQueue]
    public void Train(string runId, PerformContext? context, CancellationToken cancel)
    {
        var jobId = context?.BackgroundJob.Id;
        if (jobId is not null && JobHistory.RequeuedAfterEnd(storage, jobId)) Retry(runId, jobId);
        if (_waits.ParkIfMissingAsync(runId, cancel).GetAwaiter().GetResult() is { } missing)
        {
            log?.Invoke($"run {runId}: {missing.Reason}");
            return;
        }
        var worker = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";
        // Again after an outage that outlasted the lease: the run stopped at a checkpoint, and
        // resumes here once the database is back, unless another worker took it meanwhile.
        while (TakeLease(runId, worker, jobId, cancel) is { } lease)
        {
            log?.Invoke($"run {runId}: attempt {lease.Attempt} from episode {lease.Episode} on {worker}");
            if (!TrainInChild(runId, worker, jobId, lease, cancel)) return;
        }
    }

    /// <summary>
    /// A job requeued after it ended asks for its run again: the same retry as <c>mannlab retry</c>
    /// and the run page (a run that is not failed, cancelled or interrupted is left as it is), with
    /// this job to train it.
    /// </summary>
    private void Retry(string runId, string jobId)
    {
        if (_leases.RetryAsync(runId, jobId).GetAwaiter().GetResult() is RetryResult.Queued queued)
            log?.Invoke($"run {runId}: job {jobId} requeued; retrying it ({queued.Was} before) as attempt {queued.Attempt}");
    }

    /// <summary>
    /// The run's lease, or null when there is nothing for this job to do: the run is finished or
    /// cancelled, or another worker holds a live lease (this job is a duplicate delivery). Waiting
    /// for that lease would idle a worker for the length of a run; if its holder dies, the
    /// recovery pass gives the run a new job once the lease runs out.
    /// </summary>
    private LeaseResult.Acquired? TakeLease(string runId, string worker, string? jobId, CancellationToken cancel)
    {
        switch (WaitOut(() => _leases.TryAcquireAsync(runId, worker, settings.Lease, jobId, cancel), $"run {runId}: taking its lease", cancel))
        {
            case LeaseResult.Acquired acquired:
                return acquired;
            case LeaseResult.HeldBy held:
                log?.Invoke($"run {runId}: trained by {held.Worker} already; job {jobId} has nothing to do");
                return null;
            default:
                return null;
        }
    }

    /// <summary>Why the worker stopped its training process: an outage stops it when the lease is about to run out.</summary>
    private enum StopReason { None, Cancelled, Shutdown, Outage }

    /// <returns>Whether the run stopped for an outage and should be taken up again, now that the database is back.</returns>
    private bool TrainInChild(string runId, string worker, string? jobId, LeaseResult.Acquired lease, CancellationToken cancel)
    {
        var logFile = Path.Combine(settings.RunFolder(runId), $"attempt-{lease.Attempt}.log");
        using var child = TrainingProcess.Start(runId, worker, connectionString, Path.Combine(settings.RunFolder(runId), "checkpoint.bin"), logFile);
        _live[child] = runId;
        try
        {
            return Supervise(runId, worker, jobId, lease, child, cancel);
        }
        finally
        {
            _live.TryRemove(child, out _);
        }
    }

    private bool Supervise(string runId, string worker, string? jobId, LeaseResult.Acquired lease, TrainingProcess child, CancellationToken cancel)
    {
        var reason = StopReason.None;
        var renewedAt = DateTime.UtcNow;
        var outage = new OutageReport(message => log?.Invoke($"run {runId}: {message}"));
        // The renewal under way, and when it was sent: the lease it wins counts from then.
        (Task<bool?> Call, DateTime Sent)? renewal = null;
        int? exit;
        // Wake every second, so a deleted job or a stopping worker is noticed quickly; renew the lease every heartbeat.
        while ((exit = child.WaitForExit(TimeSpan.FromSeconds(1))) is null)
        {
            if (renewal is null && DateTime.UtcNow - renewedAt >= settings.Heartbeat && reason != StopReason.Outage)
                renewal = (_leases.RenewAsync(runId, worker, settings.Lease), DateTime.UtcNow);
            if (renewal is { } pending && pending.Call.IsCompleted)
            {
                var (call, sent) = pending;
                renewal = null;
                if (call.Exception?.InnerException is { } e && DatabaseOutage.Is(e))
                    // The child trains on and holds its records, while the lease lasts (below).
                    outage.Unreachable(e, $"; training goes on while the lease lasts, until {(renewedAt + settings.Lease).ToLocalTime():HH:mm:ss}");
                else
                {
                    var renewed = call.GetAwaiter().GetResult();
                    renewedAt = sent;
                    outage.Back("; the lease is renewed");
                    if (renewed is null)
                    {
                        // Someone else owns the run now (we stalled past the lease): stop at once, record nothing.
                        child.Kill();
                        child.WaitForExit(Timeout.InfiniteTimeSpan);
                        log?.Invoke($"run {runId}: lease lost; stopped training");
                        return false;
                    }
                    if (renewed == true && reason == StopReason.None) reason = Stop(StopReason.Cancelled);
                }
            }
            // Unrenewed for nearly the lease, whether the database refused us or never answered (a
            // partition drops packets; a call then hangs): stop at a checkpoint before another
            // worker may take the run, which resumes when the database is back.
            if (DateTime.UtcNow - renewedAt >= settings.Lease - settings.Heartbeat && reason == StopReason.None) reason = Stop(StopReason.Outage);
            if (cancel.IsCancellationRequested && reason is StopReason.None or StopReason.Outage)
                reason = Stop(WasDeleted(jobId) ? StopReason.Cancelled : StopReason.Shutdown);
        }
        var again = Finish(runId, worker, lease.Attempt, reason, exit.Value, child.ErrorTail, cancel);
        // A run can end during an outage, before any renewal: recording its attempt is then the sign the database is back.
        outage.Back("; the attempt is recorded");
        return again;

        StopReason Stop(StopReason why)
        {
            log?.Invoke($"run {runId}: {why switch
            {
                StopReason.Cancelled => "cancelled",
                StopReason.Outage => "the database has been unreachable for nearly the lease's length; stopping at a checkpoint until it is back",
                _ => "worker stopping",
            }}; checkpointing");
            child.RequestStop();
            return why;
        }
    }

    /// <summary>
    /// Records how the attempt ended, and with it the run's status: the worker is its only writer.
    /// It waits for the database if it must.
    /// </summary>
    /// <returns>Whether the run stopped for an outage, to be taken up again.</returns>
    private bool Finish(string runId, string worker, int attempt, StopReason reason, int exit, string errorTail, CancellationToken cancel)
    {
        switch (exit)
        {
            case TrainingExitCode.Completed:
                Release(AttemptOutcome.Succeeded, RunStatus.Succeeded, null);
                log?.Invoke($"run {runId}: succeeded");
                return false;
            case TrainingExitCode.Interrupted when reason == StopReason.Cancelled:
                Release(AttemptOutcome.Cancelled, RunStatus.Cancelled, null);
                return false;
            case TrainingExitCode.Interrupted when reason == StopReason.Outage:
                Release(AttemptOutcome.Interrupted, RunStatus.Interrupted, "the database was unreachable for longer than the lease");
                return true;
            case TrainingExitCode.Interrupted:
                Release(AttemptOutcome.Interrupted, RunStatus.Interrupted, null);
                // Back to the queue: on shutdown Hangfire requeues a job that ends cancelled.
                cancel.ThrowIfCancellationRequested();
                throw new TrainingProcessDiedException($"the training process of run {runId} was stopped from outside its worker");
            case TrainingExitCode.Failed:
                var reported = Reported(errorTail);
                Release(AttemptOutcome.Failed, RunStatus.Failed, reported);
                throw new RunFailedException($"run {runId} failed: {reported}");
            default:
                var error = $"the training process exited with code {exit}{(exit > 128 ? $" (signal {exit - 128})" : "")}" +
                            (errorTail.Length > 0 ? ":\n" + errorTail : "");
                if (WaitOut(() => _leases.CrashCountAsync(runId), $"run {runId}: counting its crashes", cancel) + 1 >= MaxCrashes)
                {
                    Release(AttemptOutcome.Crashed, RunStatus.Failed, error);
                    throw new RunFailedException($"run {runId}: {error}");
                }
                Release(AttemptOutcome.Crashed, RunStatus.Interrupted, error);
                throw new TrainingProcessDiedException($"run {runId}: {error}");
        }

        void Release(string outcome, string status, string? error) =>
            DatabaseOutage.WaitOutAsync(() => _leases.ReleaseAsync(runId, worker, attempt, outcome, status, error), TimeSpan.FromSeconds(2), log,
                $"run {runId}: recording that it {outcome}", cancel).GetAwaiter().GetResult();
    }

    /// <summary>Runs a database call, waiting out an outage; gives up only when the worker stops.</summary>
    private T WaitOut<T>(Func<Task<T>> call, string what, CancellationToken cancel) =>
        DatabaseOutage.WaitOutAsync(call, TimeSpan.FromSeconds(2), log, what, cancel).GetAwaiter().GetResult();

    /// <summary>Why the training process says the run failed: what follows its last <see cref="TrainingProtocol.ErrorPrefix"/> line.</summary>
    private static string Reported(string errorTail)
    {
        var lines = errorTail.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var last = Array.FindLastIndex(lines, l => l.StartsWith(TrainingProtocol.ErrorPrefix, StringComparison.Ordinal));
        return last < 0 ? lines.LastOrDefault() ?? "the training process gave no reason; see its log"
            : string.Join("\n", lines[last..])[TrainingProtocol.ErrorPrefix.Length..];
    }

    /// <summary>
    /// Whether the job was deleted (the dashboard's cancel) rather than its worker shutting down;
    /// with the database unreachable, it cannot have been.
    /// </summary>
    private bool WasDeleted(string? jobId)
    {
        if (jobId is null) return false;
        try
        {
            using var connection = storage.GetConnection();
            return connection.GetStateData(jobId)?.Name == DeletedState.StateName;
        }
        catch (Exception e) when (DatabaseOutage.Is(e))
        {
            return false;
        }
    }
}
