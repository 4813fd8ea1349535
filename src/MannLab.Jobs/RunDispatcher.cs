using Hangfire;
using Hangfire.States;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs;

/// <summary>
/// Gives every unfinished run a queue job. MannLab's tables say which runs must be trained;
/// Hangfire only carries them to workers. So registering a sweep (one transaction) and enqueueing
/// its jobs need not be atomic: whatever lacks a job, because a process died in between, because
/// its job was deleted or finished while the run did not, or because its worker's lease ran out,
/// gets one at the next recovery pass. A duplicate job is harmless: the lease lets one train.
/// </summary>
public sealed class RunDispatcher(NpgsqlDataSource db, JobStorage storage)
{
    private const long LockKey = 0x4D414E4E4C4143; // one dispatcher at a time across processes

    /// <summary>Enqueues a job for every run that needs one.</summary>
    /// <returns>The runs that were given a job.</returns>
    public async Task<IReadOnlyList<string>> DispatchAsync(CancellationToken cancel = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancel);
        await using (var take = new NpgsqlCommand("select pg_try_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", LockKey);
            if (await take.ExecuteScalarAsync(cancel) is not true) return []; // another process is dispatching right now
        }
        try
        {
            var leases = new RunLeases(db);
            var client = new BackgroundJobClient(storage);
            var dispatched = new List<string>();
            await leases.SettleCancelledAsync(cancel);
            foreach (var run in await leases.OrphansAsync(jobs => QueueStorage.PendingJobs(db, jobs), cancel))
            {
                var jobId = client.Create<RunJob>(job => job.Train(run.Id, null, CancellationToken.None),
                    new EnqueuedState(QueueNames.For(run.Queue, run.Priority)));
                await leases.AssignJobAsync(run.Id, jobId, cancel);
                dispatched.Add(run.Id);
            }
            return dispatched;
        }
        finally
        {
            await using var release = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            release.Parameters.AddWithValue("key", LockKey);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Retries a failed, cancelled or interrupted run (<see cref="RunLeases.RetryAsync"/>) and gives
    /// it a job: what <c>mannlab retry</c> and the run page do. (A requeue in the Hangfire dashboard
    /// brings its own job; <see cref="RunJob"/> retries the run through the same RunLeases call.)
    /// </summary>
    public async Task<RetryResult?> RetryAsync(string runId, CancellationToken cancel = default)
    {
        var result = await new RunLeases(db).RetryAsync(runId, jobId: null, cancel);
        // Another process dispatching right now leaves it to the next recovery pass.
        if (result is RetryResult.Queued) await DispatchAsync(cancel);
        return result;
    }
}
