using System.Text.Json.Nodes;
using MannLab.Runs;
using Npgsql;
using NpgsqlTypes;

namespace MannLab.Storage;

/// <summary>
/// A run's results in PostgreSQL. Metrics and per-instance accuracies are written in batches with
/// binary COPY into staging tables and merged with upserts, so every write is idempotent on
/// (run, step, name): a run that resumes after a crash neither duplicates nor loses a value. The
/// run summary is kept current with each batch, so listing runs never scans the metrics.
/// <para>
/// An outage does not stop training: a write that cannot reach the database is held, in order, and
/// written with the next one that can (only the newest checkpoint is worth holding). Each write
/// commits only while <paramref name="worker"/> still holds the run's lease, so a process whose
/// lease was taken over writes nothing more; it learns so from <see cref="LeaseLostException"/>.
/// </para>
/// </summary>
public sealed class DatabaseSink(NpgsqlDataSource db, string runId, string worker, Action<string>? log = null) : ITrainingSink
{
    /// <summary>
    /// A write waiting for the database, oldest first; <see cref="What"/> names it in messages. A
    /// batch of records keeps its rows, so that the batches held through an outage go in together.
    /// </summary>
    private sealed record Held(string What, Func<NpgsqlConnection, Task> Write, bool IsCheckpoint = false, Rows? Batch = null);

    private sealed record Rows(IReadOnlyList<Metric> Metrics, IReadOnlyList<InstanceAccuracy> Instances);

    /// <summary>At most this many held batches of records go in one transaction.</summary>
    private const int MergedBatches = 500;

    private readonly List<Held> _held = [];
    private readonly OutageReport _outage = new(log);

    /// <summary>How many writes wait for the database.</summary>
    public int HeldWrites => _held.Count;

    public void Started(long episode, RunEnvironment environment) => Hold($"the start at episode {episode}", async connection =>
    {
        await RecordEnvironment(connection, environment);
        // Anything recorded after the checkpoint we resume from is void: it will be recorded again.
        foreach (var table in new[] { "metrics", "instance_accuracy", "memory_snapshots", "regression_bands" })
            await Execute(connection, $"delete from mannlab.{table} where run_id = @run and step > @episode", ("run", runId), ("episode", episode));
        await Execute(connection, "update mannlab.runs set episodes_done = @episode where id = @run", ("run", runId), ("episode", episode));
    });

    /// <summary>Where and with what the run is being trained: the reproducibility record.</summary>
    private async Task RecordEnvironment(NpgsqlConnection connection, RunEnvironment environment)
    {
        await using var command = new NpgsqlCommand("""
            update mannlab.runs set git_commit = @commit, git_dirty = @dirty, mannlab_version = @version, packages = @packages,
                host = @host, cpu = @cpu, gpu = @gpu, threads = @threads
            where id = @run
            """, connection);
        command.Parameters.AddWithValue("commit", NpgsqlDbType.Text, (object?)environment.GitCommit ?? DBNull.Value);
        command.Parameters.AddWithValue("dirty", NpgsqlDbType.Boolean, (object?)environment.GitDirty ?? DBNull.Value);
        command.Parameters.AddWithValue("version", environment.MannLabVersion);
        command.Parameters.AddWithValue("packages", NpgsqlDbType.Jsonb, System.Text.Json.JsonSerializer.Serialize(new
        {
            torchsharp = environment.TorchSharpVersion, dotnet = environment.DotNetVersion, os = environment.Os, cores = environment.LogicalCores,
        }));
        command.Parameters.AddWithValue("host", environment.Host);
        command.Parameters.AddWithValue("cpu", environment.Cpu);
        command.Parameters.AddWithValue("gpu", NpgsqlDbType.Text, environment.Device == "cpu" ? DBNull.Value : environment.Device);
        command.Parameters.AddWithValue("threads", environment.Threads);
        command.Parameters.AddWithValue("run", runId);
        await command.ExecuteNonQueryAsync();
    }

    public void Record(IReadOnlyList<Metric> metrics, IReadOnlyList<InstanceAccuracy> instances)
    {
        _held.Add(Records(new Rows(metrics, instances)));
        TryWrite();
    }

    private Held Records(Rows rows)
    {
        var (metrics, instances) = (rows.Metrics, rows.Instances);
        var steps = metrics.Select(m => m.Episode).Concat(instances.Select(r => r.Episode)).DefaultIfEmpty().ToList();
        var what = steps.Min() == steps.Max() ? $"the records of episode {steps.Min()}" : $"the records of episodes {steps.Min()} to {steps.Max()}";
        return new Held(what, connection => WriteRecords(connection, metrics, instances), Batch: rows);
    }

    private async Task WriteRecords(NpgsqlConnection connection, IReadOnlyList<Metric> metrics, IReadOnlyList<InstanceAccuracy> instances)
    {
        if (metrics.Count > 0)
        {
            await Execute(connection, "create temp table if not exists staged_metrics (step bigint, name text, value double precision) on commit delete rows");
            await using (var copy = await connection.BeginBinaryImportAsync("copy staged_metrics (step, name, value) from stdin (format binary)"))
            {
                foreach (var m in metrics)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(m.Episode, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(m.Name, NpgsqlDbType.Text);
                    if (double.IsFinite(m.Value)) await copy.WriteAsync(m.Value, NpgsqlDbType.Double); else await copy.WriteNullAsync();
                }
                await copy.CompleteAsync();
            }
            await Execute(connection, """
                insert into mannlab.metrics (run_id, step, name, value) select @run, step, name, value from staged_metrics
                on conflict (run_id, step, name) do update set value = excluded.value
                """, ("run", runId));
            var latest = new JsonObject();
            foreach (var m in metrics) latest[m.Name] = double.IsFinite(m.Value) ? m.Value : null;
            await Execute(connection, """
                update mannlab.run_summary set step = greatest(step, @step), latest = latest || @latest::jsonb, updated_at = now() where run_id = @run
                """, ("run", runId), ("step", metrics.Max(m => m.Episode)), ("latest", latest.ToJsonString()));
            await Execute(connection, "update mannlab.runs set episodes_done = greatest(episodes_done, @step) where id = @run",
                ("run", runId), ("step", metrics.Max(m => m.Episode)));
        }
        if (instances.Count > 0)
        {
            await Execute(connection, "create temp table if not exists staged_instances (step bigint, split text, classes int, instance int, correct bigint, total bigint) on commit delete rows");
            await using (var copy = await connection.BeginBinaryImportAsync("copy staged_instances (step, split, classes, instance, correct, total) from stdin (format binary)"))
            {
                foreach (var r in instances)
                    await copy.WriteRowAsync(default, r.Episode, r.Split, r.Classes, r.Instance, r.Correct, r.Total);
                await copy.CompleteAsync();
            }
            await Execute(connection, """
                insert into mannlab.instance_accuracy (run_id, step, split, classes, instance, correct, total)
                select @run, step, split, classes, instance, correct, total from staged_instances
                on conflict (run_id, step, split, classes, instance) do update set correct = excluded.correct, total = excluded.total
                """, ("run", runId));
        }
    }

    /// <summary>
    /// The checkpoint's bytes go to the database too, so a run resumes on whichever machine picks it
    /// up next (a MANN checkpoint with its optimiser state is a few megabytes). They are read now:
    /// the file is overwritten by the next checkpoint. One statement: when the database's disk is
    /// full, the previous checkpoint stays whole.
    /// </summary>
    public void Checkpointed(long episode, string file)
    {
        var (path, bytes) = (Path.GetFullPath(file), File.ReadAllBytes(file));
        // A newer checkpoint makes a held one worthless; the records before it stay held, in order.
        _held.RemoveAll(h => h.IsCheckpoint);
        Hold($"the checkpoint of episode {episode}", connection => Execute(connection, """
            insert into mannlab.checkpoints (run_id, episode, path, bytes) values (@run, @episode, @path, @bytes)
            on conflict (run_id) do update set episode = excluded.episode, path = excluded.path, bytes = excluded.bytes, updated_at = now()
            """, ("run", runId), ("episode", episode), ("path", path), ("bytes", bytes)), isCheckpoint: true);
    }

    /// <summary>The picture of the memory at a checkpoint (see memory_snapshots).</summary>
    public void MemoryDrawn(long episode, byte[] png) => Hold($"the memory picture of episode {episode}", connection => Execute(connection, """
        insert into mannlab.memory_snapshots (run_id, step, png) values (@run, @step, @png)
        on conflict (run_id, step) do update set png = excluded.png
        """, ("run", runId), ("step", episode), ("png", png)));

    /// <summary>A 1-D regression's predictions at a checkpoint (see regression_bands).</summary>
    public void BandsDrawn(IReadOnlyList<RegressionBands> bands) => Hold($"the regression bands of episode {bands[0].Episode}", async connection =>
    {
        foreach (var b in bands)
            await Execute(connection, """
                insert into mannlab.regression_bands (run_id, step, seen, bands) values (@run, @step, @seen, @bands::jsonb)
                on conflict (run_id, step, seen) do update set bands = excluded.bands
                """, ("run", runId), ("step", b.Episode), ("seen", b.Seen), ("bands", System.Text.Json.JsonSerializer.Serialize(b)));
    });

    /// <summary>
    /// Nothing to write: the run's status and error have one writer, its worker, which records them
    /// from how the training process exited (RunLeases.ReleaseAsync).
    /// </summary>
    public void Finished(TrainingResult result) { }

    /// <summary>
    /// Writes every held write, and reports whether the database took them all. Run while training
    /// ends, until it does or <paramref name="stop"/> is asked for (then a few seconds more).
    /// </summary>
    public bool Drain(CancellationToken stop)
    {
        var after = DateTime.MaxValue;
        while (!TryWrite())
        {
            if (stop.IsCancellationRequested && after == DateTime.MaxValue) after = DateTime.UtcNow.AddSeconds(3);
            if (DateTime.UtcNow > after) return false;
            Thread.Sleep(TimeSpan.FromSeconds(1));
        }
        return true;
    }

    private void Hold(string what, Func<NpgsqlConnection, Task> write, bool isCheckpoint = false)
    {
        _held.Add(new Held(what, write, isCheckpoint));
        TryWrite();
    }

    /// <summary>Writes the held writes in order, each (or each merged run of records) in a transaction of its own under the lease; false if the database is unreachable.</summary>
    private bool TryWrite()
    {
        if (_held.Count == 0) return true;
        try
        {
            using var connection = db.OpenConnection();
            while (_held.Count > 0)
            {
                var (next, count) = Next();
                WriteUnderLease(connection, next).GetAwaiter().GetResult();
                _held.RemoveRange(0, count);
            }
        }
        catch (Exception e) when (DatabaseOutage.Is(e))
        {
            _outage.Unreachable(e, ": training goes on, and its records wait until the database is back");
            return false;
        }
        _outage.Back(": everything recorded meanwhile is written");
        return true;
    }

    /// <summary>
    /// The next write, and how many held writes it stands for: consecutive batches of records are
    /// merged into one (an outage of a minute holds hundreds; one by one, writing them took longer
    /// than the outage). A value recorded twice keeps its last version, as upserting each would.
    /// </summary>
    private (Held Write, int Count) Next()
    {
        var count = _held.TakeWhile(h => h.Batch is not null).Take(MergedBatches).Count();
        if (count <= 1) return (_held[0], 1);
        var batches = _held.Take(count).Select(h => h.Batch!).ToList();
        var metrics = batches.SelectMany(b => b.Metrics).Reverse().DistinctBy(m => (m.Episode, m.Name)).Reverse().ToList();
        var instances = batches.SelectMany(b => b.Instances).Reverse().DistinctBy(r => (r.Episode, r.Split, r.Classes, r.Instance)).Reverse().ToList();
        return (Records(new Rows(metrics, instances)), count);
    }

    private async Task WriteUnderLease(NpgsqlConnection connection, Held held)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        // The row lock keeps a takeover from slipping in between this check and the commit; it is the
        // one the writes below take anyway (no key update), so nothing has to wait for an upgrade.
        await using (var lease = new NpgsqlCommand("select worker from mannlab.runs where id = @run for no key update", connection, transaction))
        {
            lease.Parameters.AddWithValue("run", runId);
            var holder = await lease.ExecuteScalarAsync() as string;
            if (holder != worker)
                throw new LeaseLostException($"run {runId} is leased to {holder ?? "nobody"} now, not {worker}: {held.What} and what follows it are not written");
        }
        try
        {
            await held.Write(connection);
            await transaction.CommitAsync();
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DiskFull)
        {
            throw new DiskFullException($"cannot store {held.What} in the database: its disk is full ({e.MessageText})" +
                                        (held.IsCheckpoint ? "; the previous checkpoint is kept" : ""), e);
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }
}
