using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace MannLab.Jobs;

/// <summary>What a run's Hangfire job went through, read from its state history.</summary>
public static class JobHistory
{
    /// <summary>The job's states, with their data, oldest first.</summary>
    private static IReadOnlyList<(string State, IDictionary<string, string> Data)> States(JobStorage storage, string jobId) =>
        storage.GetMonitoringApi().JobDetails(jobId)?.History is { } history
            ? [.. history.AsEnumerable().Reverse().Select(h => (h.StateName, h.Data))]
            : [];

    /// <summary>
    /// Whether the job was enqueued again after it had ended (succeeded, failed or deleted): only
    /// a person does that (the Hangfire dashboard's Requeue). Hangfire's own retries and a dead
    /// worker's job handed out again never pass through an end.
    /// </summary>
    public static bool RequeuedAfterEnd(JobStorage storage, string jobId) => RequeuedAfterEnd(States(storage, jobId).Select(s => s.State));

    public static bool RequeuedAfterEnd(IEnumerable<string> statesOldestFirst)
    {
        var ended = false;
        foreach (var state in statesOldestFirst)
        {
            if (state == SucceededState.StateName || state == FailedState.StateName || state == DeletedState.StateName) ended = true;
            else if (ended && state == EnqueuedState.StateName) return true;
        }
        return false;
    }

    /// <summary>The queue the job was first put on.</summary>
    public static string? FirstQueue(JobStorage storage, string jobId) =>
        States(storage, jobId).Where(s => s.State == EnqueuedState.StateName).Select(s => s.Data.TryGetValue("Queue", out var queue) ? queue : null)
            .FirstOrDefault(q => q is not null && q != EnqueuedState.DefaultQueue);
}

/// <summary>
/// Keeps a job on its own queue when it is enqueued again. Hangfire enqueues onto "default", which
/// no MannLab worker serves, both when the dashboard requeues a job and when its own retry after a
/// crash comes due (seen: a cpu_low job requeued onto "default"; a run whose training process was
/// killed stayed interrupted, its retry on "default"). The queue the job was first put on says
/// where it belongs.
/// </summary>
public sealed class KeepQueueAttribute : JobFilterAttribute, IElectStateFilter
{
    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is EnqueuedState { Queue: EnqueuedState.DefaultQueue } enqueued &&
            JobHistory.FirstQueue(context.Storage, context.BackgroundJob.Id) is { } queue)
            enqueued.Queue = queue;
    }
}
