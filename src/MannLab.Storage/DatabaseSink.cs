using System.Text.Json.Nodes;
using MannLab.Training;
using Npgsql;
using NpgsqlTypes;

namespace MannLab.Storage;

/// <summary>
/// A run's results in PostgreSQL. Metrics and per-instance accuracies are written in batches with
/// binary COPY into staging tables and merged with upserts, so every write is idempotent on
/// (run, step, name): a run that resumes after a crash neither duplicates nor loses a value. The
/// run summary is kept current with each batch, so listing runs never scans the metrics.
/// </summary>
public sealed class DatabaseSink(NpgsqlDataSource db, string runId) : ITrainingSink
{
    public void Started(long episode, RunEnvironment environment)
    {
        new RunStore(db).RecordEnvironmentAsync(runId, environment).GetAwaiter().GetResult();
        Run(async connection =>
        {
            // Anything recorded after the checkpoint we resume from is void: it will be recorded again.
            foreach (var table in new[] { "metrics", "instance_accuracy", "memory_snapshots" })
                await Execute(connection, $"delete from mannlab.{table} where run_id = @run and step > @episode", ("run", runId), ("episode", episode));
            await Execute(connection, "update mannlab.runs set episodes_done = @episode where id = @run", ("run", runId), ("episode", episode));
        });
    }

    public void Record(IReadOnlyList<Metric> metrics, IReadOnlyList<InstanceAccuracy> instances) => Run(async connection =>
    {
        await using var transaction = await connection.BeginTransactionAsync();
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
            await Execute(connection, "create temp table if not exists staged_instances (step bigint, split text, instance int, correct bigint, total bigint) on commit delete rows");
            await using (var copy = await connection.BeginBinaryImportAsync("copy staged_instances (step, split, instance, correct, total) from stdin (format binary)"))
            {
                foreach (var r in instances)
                    await copy.WriteRowAsync(default, r.Episode, r.Split, r.Instance, r.Correct, r.Total);
                await copy.CompleteAsync();
            }
            await Execute(connection, """
                insert into mannlab.instance_accuracy (run_id, step, split, instance, correct, total)
                select @run, step, split, instance, correct, total from staged_instances
                on conflict (run_id, step, split, instance) do update set correct = excluded.correct, total = excluded.total
                """, ("run", runId));
        }
        await transaction.CommitAsync();
    });

    /// <summary>
    /// The checkpoint's bytes go to the database too, so a run resumes on whichever machine picks it
    /// up next (a MANN checkpoint with its optimiser state is a few megabytes). One statement: when
    /// the database's disk is full, the previous checkpoint stays whole, and the run fails saying so.
    /// </summary>
    public void Checkpointed(long episode, string file)
    {
        try
        {
            Run(connection => Execute(connection, """
                insert into mannlab.checkpoints (run_id, episode, path, bytes) values (@run, @episode, @path, @bytes)
                on conflict (run_id) do update set episode = excluded.episode, path = excluded.path, bytes = excluded.bytes, updated_at = now()
                """, ("run", runId), ("episode", episode), ("path", Path.GetFullPath(file)), ("bytes", File.ReadAllBytes(file))));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DiskFull)
        {
            throw new DiskFullException($"cannot store the checkpoint of episode {episode} in the database: its disk is full ({e.MessageText}); " +
                                        "the previous checkpoint is kept", e);
        }
    }

    /// <summary>The picture of the memory at a checkpoint (see memory_snapshots).</summary>
    public void MemorySnapshot(long episode, byte[] png) => Run(connection => Execute(connection, """
        insert into mannlab.memory_snapshots (run_id, step, png) values (@run, @step, @png)
        on conflict (run_id, step) do update set png = excluded.png
        """, ("run", runId), ("step", episode), ("png", png)));

    /// <summary>
    /// Nothing to write: the run's status and error have one writer, its worker, which records them
    /// from how the training process exited (RunLeases.ReleaseAsync).
    /// </summary>
    public void Finished(TrainingResult result) { }

    private void Run(Func<NpgsqlConnection, Task> action)
    {
        using var connection = db.OpenConnection();
        action(connection).GetAwaiter().GetResult();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }
}
