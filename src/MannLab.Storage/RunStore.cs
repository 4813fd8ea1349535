using System.Text.Json.Nodes;
using MannLab.Runs;
using MannLab.Spec;
using Task = System.Threading.Tasks.Task;
using Npgsql;
using NpgsqlTypes;

namespace MannLab.Storage;

/// <summary>
/// Experiments and runs into PostgreSQL, MannLab's record, which the queue only serves; and a run's
/// checkpoint out of it, for its training process. <see cref="RunQueries"/> reads the rest back.
/// </summary>
public sealed class RunStore(NpgsqlDataSource db)
{
    /// <summary>
    /// Records a spec file's experiment and every run of its sweep in one transaction: all of them
    /// or none. Runs already known (the same resolved spec) are left as they are.
    /// </summary>
    /// <returns>The runs this call added, in sweep order.</returns>
    public async Task<IReadOnlyList<string>> RegisterAsync(ExperimentFile experiment, CancellationToken cancel = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        var resolved = new JsonObject { ["runs"] = new JsonArray([.. experiment.Runs.Select(r => JsonNode.Parse(r.Json))]) };
        long experimentId;
        await using (var insert = new NpgsqlCommand("""
            insert into mannlab.experiments (file, name, yaml, resolved, hash) values (@file, @name, @yaml, @resolved, @hash)
            on conflict (file, hash) do update set file = excluded.file
            returning id
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("file", experiment.File);
            insert.Parameters.AddWithValue("name", experiment.Runs.Head.Spec.Name);
            insert.Parameters.AddWithValue("yaml", experiment.Text);
            insert.Parameters.AddWithValue("resolved", NpgsqlDbType.Jsonb, resolved.ToJsonString());
            insert.Parameters.AddWithValue("hash", experiment.Hash);
            experimentId = (long)(await insert.ExecuteScalarAsync(cancel))!;
        }
        var added = new List<string>();
        foreach (var run in experiment.Runs)
        {
            await using var insert = new NpgsqlCommand("""
                insert into mannlab.runs (id, experiment_id, sweep_index, name, model, point, spec, queue, priority, episodes_total, seed, threads)
                values (@id, @experiment, @index, @name, @model, @point, @spec, @queue, @priority, @total, @seed, @threads)
                on conflict (id) do nothing
                """, connection, transaction);
            var spec = run.Spec;
            insert.Parameters.AddWithValue("id", run.Id);
            insert.Parameters.AddWithValue("experiment", experimentId);
            insert.Parameters.AddWithValue("index", run.Index);
            insert.Parameters.AddWithValue("name", spec.Name);
            insert.Parameters.AddWithValue("model", Schema.kindOf(spec.Model));
            insert.Parameters.AddWithValue("point", NpgsqlDbType.Jsonb, PointJson(run));
            insert.Parameters.AddWithValue("spec", NpgsqlDbType.Jsonb, run.Json);
            insert.Parameters.AddWithValue("queue", spec.Queue.IsGpuQueue ? "gpu" : "cpu");
            insert.Parameters.AddWithValue("priority", spec.Priority.IsHigh ? "high" : spec.Priority.IsLow ? "low" : "normal");
            insert.Parameters.AddWithValue("total", (long)spec.EpisodesToTrain);
            insert.Parameters.AddWithValue("seed", spec.Training.Seed);
            insert.Parameters.AddWithValue("threads", spec.Training.Threads);
            if (await insert.ExecuteNonQueryAsync(cancel) == 1) added.Add(run.Id);
            await using var summary = new NpgsqlCommand("insert into mannlab.run_summary (run_id) values (@id) on conflict do nothing", connection, transaction);
            summary.Parameters.AddWithValue("id", run.Id);
            await summary.ExecuteNonQueryAsync(cancel);
        }
        await transaction.CommitAsync(cancel);
        return added;
    }

    /// <summary>{"model.lrua.gamma": 0.9, ...}: the swept fields and their resolved values.</summary>
    public static string PointJson(Run run)
    {
        var point = new JsonObject();
        foreach (var v in run.Point) point[v.Path] = JsonNode.Parse(v.Resolved);
        return point.ToJsonString();
    }

    /// <summary>
    /// Puts the run's latest checkpoint at <paramref name="file"/>: the database's copy, whatever
    /// the file holds. The database's checkpoint is the one its records are complete up to; a local
    /// file may be further along (saved while the database was unreachable, or just before a
    /// crash), but resuming from it would leave a gap in the records. Without a checkpoint in the
    /// database, the file is removed and training starts from scratch.
    /// </summary>
    /// <returns>The episode the checkpoint is at, or null for none.</returns>
    public async Task<long?> RestoreCheckpointAsync(string runId, string file, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand("select episode, bytes from mannlab.checkpoints where run_id = @run and bytes is not null");
        command.Parameters.AddWithValue("run", runId);
        await using var rows = await command.ExecuteReaderAsync(cancel);
        if (await rows.ReadAsync(cancel))
        {
            SafeFile.Write(file, (byte[])rows[1]);
            return rows.GetInt64(0);
        }
        if (File.Exists(file)) File.Delete(file);
        return null;
    }
}
