using MannLab.Runs;
using Npgsql;
using NpgsqlTypes;
using static MannLab.Runs.RunStatus;

namespace MannLab.Storage;

/// <summary>What a worker found when it asked for a run's lease.</summary>
public abstract record LeaseResult
{
    /// <summary>The worker holds the lease: this is attempt <paramref name="Attempt"/>, resuming at <paramref name="Episode"/>, its checkpoint in the database.</summary>
    public sealed record Acquired(int Attempt, long Episode) : LeaseResult;

    /// <summary>Nothing to train: the run finished, was cancelled, or waits for its data.</summary>
    public sealed record NothingToDo(string Status) : LeaseResult;

    /// <summary>Another worker holds a live lease on the run.</summary>
    public sealed record HeldBy(string Worker, DateTime Until) : LeaseResult;
}

/// <summary>A run that needs a queue job: queued without one, or orphaned by a worker that died.</summary>
public sealed record OrphanRun(string Id, string Queue, string Priority);

/// <summary>What asking to retry a run did.</summary>
public abstract record RetryResult
{
    /// <summary>Queued again, having been <paramref name="Was"/>: its next attempt is <paramref name="Attempt"/>, from <paramref name="Checkpoint"/> (null: from the start).</summary>
    public sealed record Queued(string Was, int Attempt, long? Checkpoint) : RetryResult
    {
        public override string ToString() =>
            $"{Was}, queued again: attempt {Attempt} resumes {(Checkpoint is { } e ? $"from its checkpoint at episode {e}" : "from the start (it has no checkpoint)")}";
    }

    /// <summary>Left as it is: only failed, cancelled and interrupted runs are retried.</summary>
    public sealed record NotRetryable(string Status) : RetryResult
    {
        public override string ToString() => Status == Waiting
            ? "waiting for its data, not retried: it starts by itself once the data is there"
            : $"{Status}, not retried: only failed, cancelled or interrupted runs are";
    }
}

/// <summary>A run waiting for its data, with its resolved spec, for a worker to check again.</summary>
public sealed record WaitingRun(string Id, string SpecJson);

/// <summary>
/// The guard that keeps a run from being trained by two workers at once, even when the queue hands
/// its job out twice: a lease in the runs table (worker id and an expiry), renewed by the worker's
/// heartbeat. Taking the lease is one UPDATE, so two workers can't both win. A worker that stops
/// renewing (killed, hung, partitioned) loses the run once the lease runs out, and recovery gives
/// the run a new job that resumes it from its checkpoint.
/// </summary>
public sealed class RunLeases(NpgsqlDataSource db)
{
    /// <summary>
    /// No worker holds a live lease on the run: none took it, or its holder stopped renewing it (its
    /// lease ran out). <paramref name="row"/> names the row when a query has two (<c>r</c>).
    /// </summary>
    private static string NoLiveLease(string? row = null)
    {
        var until = row is null ? "lease_until" : row + ".lease_until";
        return $"({until} is null or {until} < now())";
    }

    /// <summary>A run a worker may start: unfinished, not being cancelled, and nobody's lease live on it.</summary>
    private static readonly string Takeable = $"status in ({Sql(Queued, Interrupted, Running)}) and not cancel_requested and {NoLiveLease()}";

    /// <summary>A run that may need a queue job: waiting for a worker (queued or interrupted), or running under a lease that ran out.</summary>
    private static readonly string Orphaned = $"status in ({Sql(Queued, Interrupted)}) or (status = {Sql(Running)} and {NoLiveLease()})";

    /// <summary>Closes the attempt a dead worker left open (its lease ran out).</summary>
    private static readonly string CloseLostAttempt = $"""
        update mannlab.run_attempts set outcome = {AttemptOutcome.Sql(AttemptOutcome.Lost)}, finished_at = now(), error = 'its worker stopped renewing the lease',
            to_episode = (select episodes_done from mannlab.runs where id = @run)
        where run_id = @run and finished_at is null
        """;

    public async Task<LeaseResult> TryAcquireAsync(string runId, string worker, TimeSpan lease, string? jobId, CancellationToken cancel = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await using (var take = new NpgsqlCommand($"""
            update mannlab.runs
            set worker = @worker, lease_until = now() + @lease, heartbeat_at = now(), status = {Sql(Running)}, attempt = attempt + 1,
                started_at = coalesce(started_at, now()), job_id = coalesce(@job, job_id), error = null, wait_reason = null
            where id = @run and {Takeable}
            returning attempt, coalesce((select c.episode from mannlab.checkpoints c where c.run_id = @run and c.bytes is not null), 0)
            """, connection, transaction))
        {
            take.Parameters.AddWithValue("worker", worker);
            take.Parameters.AddWithValue("lease", lease);
            take.Parameters.AddWithValue("job", NpgsqlDbType.Text, (object?)jobId ?? DBNull.Value);
            take.Parameters.AddWithValue("run", runId);
            await using var rows = await take.ExecuteReaderAsync(cancel);
            if (await rows.ReadAsync(cancel))
            {
                var (attempt, episode) = (rows.GetInt32(0), rows.GetInt64(1));
                await rows.DisposeAsync();
                // An attempt still open belonged to a worker whose lease ran out: it is over.
                await using (var close = new NpgsqlCommand(CloseLostAttempt, connection, transaction))
                {
                    close.Parameters.AddWithValue("run", runId);
                    await close.ExecuteNonQueryAsync(cancel);
                }
                await using var record = new NpgsqlCommand("""
                    insert into mannlab.run_attempts (run_id, attempt, worker, job_id, from_episode) values (@run, @attempt, @worker, @job, @episode)
                    on conflict (run_id, attempt) do nothing
                    """, connection, transaction);
                record.Parameters.AddWithValue("run", runId);
                record.Parameters.AddWithValue("attempt", attempt);
                record.Parameters.AddWithValue("worker", worker);
                record.Parameters.AddWithValue("job", NpgsqlDbType.Text, (object?)jobId ?? DBNull.Value);
                record.Parameters.AddWithValue("episode", episode);
                await record.ExecuteNonQueryAsync(cancel);
                await transaction.CommitAsync(cancel);
                return new LeaseResult.Acquired(attempt, episode);
            }
        }
        await using var look = new NpgsqlCommand("select status, cancel_requested, worker, lease_until from mannlab.runs where id = @run", connection, transaction);
        look.Parameters.AddWithValue("run", runId);
        await using var state = await look.ExecuteReaderAsync(cancel);
        if (!await state.ReadAsync(cancel)) throw new InvalidOperationException($"run {runId} is not in the database");
        var status = state.GetString(0);
        if (IsFinished(status) || status == Waiting) return new LeaseResult.NothingToDo(status);
        if (state.GetBoolean(1)) return new LeaseResult.NothingToDo(Cancelled);
        return new LeaseResult.HeldBy(state.IsDBNull(2) ? "?" : state.GetString(2), state.IsDBNull(3) ? DateTime.MinValue : state.GetDateTime(3));
    }

    /// <summary>
    /// Renews the lease. Null when the worker no longer holds it; otherwise whether cancellation was
    /// asked for. The status is not consulted: the lease is the worker's until it releases it.
    /// </summary>
    public async Task<bool?> RenewAsync(string runId, string worker, TimeSpan lease, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand("""
            update mannlab.runs set heartbeat_at = now(), lease_until = now() + @lease
            where id = @run and worker = @worker and lease_until is not null
            returning cancel_requested
            """);
        command.Parameters.AddWithValue("lease", lease);
        command.Parameters.AddWithValue("run", runId);
        command.Parameters.AddWithValue("worker", worker);
        return await command.ExecuteScalarAsync(cancel) is bool requested ? requested : null;
    }

    /// <summary>
    /// Ends an attempt: records its outcome, the run's status (the worker is its only writer: it
    /// decides from how its training process ended) and error, and gives the lease back.
    /// </summary>
    public async Task ReleaseAsync(string runId, string worker, int attempt, string outcome, string status, string? error)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var release = new NpgsqlCommand($"""
            update mannlab.runs
            set status = @status, error = @error, lease_until = null,
                finished_at = case when @status in ({Sql(Finished)}) then now() end
            where id = @run and worker = @worker
            """, connection, transaction))
        {
            release.Parameters.AddWithValue("status", status);
            release.Parameters.AddWithValue("error", NpgsqlDbType.Text, (object?)error ?? DBNull.Value);
            release.Parameters.AddWithValue("run", runId);
            release.Parameters.AddWithValue("worker", worker);
            await release.ExecuteNonQueryAsync();
        }
        await using (var record = new NpgsqlCommand("""
            update mannlab.run_attempts set finished_at = now(), outcome = @outcome, error = @error,
                to_episode = (select episodes_done from mannlab.runs where id = @run)
            where run_id = @run and attempt = @attempt
            """, connection, transaction))
        {
            record.Parameters.AddWithValue("outcome", outcome);
            record.Parameters.AddWithValue("error", NpgsqlDbType.Text, (object?)error ?? DBNull.Value);
            record.Parameters.AddWithValue("run", runId);
            record.Parameters.AddWithValue("attempt", attempt);
            await record.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>
    /// Asks for a run to stop. A run nobody is training is cancelled at once; a running one is
    /// stopped by its worker at the next heartbeat, after a checkpoint.
    /// </summary>
    /// <returns>The run's status after the request and its queue job, or null if there is no such run.</returns>
    public async Task<(string Status, string? JobId)?> RequestCancelAsync(string runId, CancellationToken cancel = default)
    {
        var untrained = $"r.status in ({Sql(Queued, Waiting, Interrupted)}) or (r.status = {Sql(Running)} and {NoLiveLease("r")})";
        await using var command = db.CreateCommand($"""
            with target as (select id, status, lease_until from mannlab.runs where id = @run for update)
            update mannlab.runs r
            set cancel_requested = r.status not in ({Sql(Finished)}),
                status = case when {untrained} then {Sql(Cancelled)} else r.status end,
                finished_at = case when {untrained} then now() else r.finished_at end
            from target where r.id = target.id
            returning r.status, r.job_id
            """);
        command.Parameters.AddWithValue("run", runId);
        await using var rows = await command.ExecuteReaderAsync(cancel);
        if (!await rows.ReadAsync(cancel)) return null;
        return (rows.GetString(0), rows.IsDBNull(1) ? null : rows.GetString(1));
    }

    /// <summary>
    /// Unfinished runs whose queue job is gone: never enqueued (a crash between registering and
    /// enqueueing), finished or deleted in the queue while the run is not, or held by a worker whose
    /// lease ran out. <paramref name="pendingJobs"/> tells, in one call, which of the given jobs
    /// are still in the queue.
    /// </summary>
    public async Task<IReadOnlyList<OrphanRun>> OrphansAsync(Func<IReadOnlyCollection<string>, IReadOnlySet<string>> pendingJobs,
        CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand($"""
            select id, queue, priority, job_id, status from mannlab.runs
            where not cancel_requested and ({Orphaned})
            order by created_at, sweep_index
            """);
        var candidates = new List<(OrphanRun Run, string? Job, bool LeaseRanOut)>();
        await using (var rows = await command.ExecuteReaderAsync(cancel))
            while (await rows.ReadAsync(cancel))
                candidates.Add((new OrphanRun(rows.GetString(0), rows.GetString(1), rows.GetString(2)),
                    rows.IsDBNull(3) ? null : rows.GetString(3), rows.GetString(4) == Running));
        var pending = pendingJobs([.. candidates.Where(c => c.Job is not null).Select(c => c.Job!)]);
        // A lease that ran out means its worker is gone, whatever the queue still says about its job.
        return [.. candidates.Where(c => c.LeaseRanOut || c.Job is null || !pending.Contains(c.Job)).Select(c => c.Run)];
    }

    /// <summary>
    /// Records the queue job that will train the run. An orphaned running run becomes interrupted,
    /// and the attempt its dead worker left open is closed as lost.
    /// </summary>
    public async Task AssignJobAsync(string runId, string jobId, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand($"""
            {CloseLostAttempt}
              and exists (select 1 from mannlab.runs r where r.id = @run and r.status = {Sql(Running)} and {NoLiveLease("r")});
            update mannlab.runs set job_id = @job,
                status = case when status = {Sql(Running)} and {NoLiveLease()} then {Sql(Interrupted)} else status end
            where id = @run
            """);
        command.Parameters.AddWithValue("job", jobId);
        command.Parameters.AddWithValue("run", runId);
        await command.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>How many attempts at the run since it was last retried ended with its training process dying.</summary>
    public async Task<int> CrashCountAsync(string runId)
    {
        await using var command = db.CreateCommand($"""
            select count(*) from mannlab.run_attempts a join mannlab.runs r on r.id = a.run_id
            where a.run_id = @run and a.outcome = {AttemptOutcome.Sql(AttemptOutcome.Crashed)} and a.attempt > r.retried_at_attempt
            """);
        command.Parameters.AddWithValue("run", runId);
        return Convert.ToInt32(await command.ExecuteScalarAsync());
    }

    /// <summary>Runs cancelled while their worker was gone: nobody will stop them, so they are marked cancelled here.</summary>
    public async Task SettleCancelledAsync(CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand($"""
            update mannlab.runs set status = {Sql(Cancelled)}, finished_at = now(), lease_until = null
            where cancel_requested and status in ({Sql(Queued, Running, Interrupted)}) and {NoLiveLease()}
            """);
        await command.ExecuteNonQueryAsync(cancel);
    }

    /// <summary>
    /// Parks a run whose data is missing: it waits, with <paramref name="reason"/>, instead of being
    /// trained. Only a run a worker could start is parked; a run leased, finished or being
    /// cancelled is left alone (false).
    /// </summary>
    public async Task<bool> MarkWaitingAsync(string runId, string reason, CancellationToken cancel = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await using (var park = new NpgsqlCommand($"update mannlab.runs set status = {Sql(Waiting)}, wait_reason = @reason where id = @run and {Takeable}",
                         connection, transaction))
        {
            park.Parameters.AddWithValue("reason", reason);
            park.Parameters.AddWithValue("run", runId);
            if (await park.ExecuteNonQueryAsync(cancel) == 0) return false;
        }
        await using (var close = new NpgsqlCommand(CloseLostAttempt, connection, transaction))
        {
            close.Parameters.AddWithValue("run", runId);
            await close.ExecuteNonQueryAsync(cancel);
        }
        await transaction.CommitAsync(cancel);
        return true;
    }

    /// <summary>The runs waiting for their data, oldest first.</summary>
    public async Task<IReadOnlyList<WaitingRun>> WaitingAsync(CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand($"select id, spec::text from mannlab.runs where status = {Sql(Waiting)} order by created_at, sweep_index");
        var runs = new List<WaitingRun>();
        await using var rows = await command.ExecuteReaderAsync(cancel);
        while (await rows.ReadAsync(cancel)) runs.Add(new WaitingRun(rows.GetString(0), rows.GetString(1)));
        return runs;
    }

    /// <summary>Queues waiting runs again (their data is there now); the dispatcher gives them jobs.</summary>
    /// <returns>The runs that were still waiting and are queued now.</returns>
    public async Task<IReadOnlyList<string>> WakeAsync(IReadOnlyCollection<string> runIds, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand($"""
            update mannlab.runs set status = {Sql(Queued)}, wait_reason = null where id = any(@runs) and status = {Sql(Waiting)} returning id
            """);
        command.Parameters.AddWithValue("runs", runIds.ToArray());
        var woken = new List<string>();
        await using var rows = await command.ExecuteReaderAsync(cancel);
        while (await rows.ReadAsync(cancel)) woken.Add(rows.GetString(0));
        return woken;
    }

    /// <summary>
    /// Queues a failed, cancelled or interrupted run again as a new attempt, which resumes from its
    /// last checkpoint: the one way a run comes back, whether asked by <c>mannlab retry</c>, the run
    /// page or a requeue in the Hangfire dashboard. Its crashes so far no longer count against it.
    /// </summary>
    /// <param name="jobId">The queue job that will train it (a requeued job), or null to let the dispatcher give it one.</param>
    /// <returns>What happened, or null if there is no such run.</returns>
    public async Task<RetryResult?> RetryAsync(string runId, string? jobId, CancellationToken cancel = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancel);
        await using (var retry = new NpgsqlCommand($"""
            with target as (select id, status from mannlab.runs where id = @run for update)
            update mannlab.runs r
            set status = {Sql(Queued)}, cancel_requested = false, error = null, wait_reason = null, finished_at = null,
                retried_at_attempt = r.attempt, job_id = coalesce(@job, r.job_id)
            from target
            where r.id = target.id and target.status in ({Sql(Retryable)}) and {NoLiveLease("r")}
            returning target.status, r.attempt + 1, (select c.episode from mannlab.checkpoints c where c.run_id = r.id and c.bytes is not null)
            """, connection))
        {
            retry.Parameters.AddWithValue("run", runId);
            retry.Parameters.AddWithValue("job", NpgsqlDbType.Text, (object?)jobId ?? DBNull.Value);
            await using var rows = await retry.ExecuteReaderAsync(cancel);
            if (await rows.ReadAsync(cancel))
                return new RetryResult.Queued(rows.GetString(0), rows.GetInt32(1), rows.IsDBNull(2) ? null : rows.GetInt64(2));
        }
        await using var look = new NpgsqlCommand("select status from mannlab.runs where id = @run", connection);
        look.Parameters.AddWithValue("run", runId);
        return await look.ExecuteScalarAsync(cancel) is string status ? new RetryResult.NotRetryable(status) : null;
    }
}
