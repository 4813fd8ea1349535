using System.Text.Json.Nodes;
using MannLab.Spec;
using Npgsql;
using NpgsqlTypes;

namespace MannLab.Storage;

/// <summary>A run as the database holds it.</summary>
public sealed record StoredRun(string Id, string Name, string Model, string Status, string Queue, string Priority, int SweepIndex,
    string Point, long EpisodesDone, long EpisodesTotal, string? Worker, string? Error, string? JobId);

/// <summary>Experiments and runs in PostgreSQL: MannLab's record, which the queue only serves.</summary>
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
            insert.Parameters.AddWithValue("model", spec.Model.IsMann ? "mann" : spec.Model.IsLstm ? "lstm" : "feedforward");
            insert.Parameters.AddWithValue("point", NpgsqlDbType.Jsonb, PointJson(run));
            insert.Parameters.AddWithValue("spec", NpgsqlDbType.Jsonb, run.Json);
            insert.Parameters.AddWithValue("queue", spec.Queue.IsGpuQueue ? "gpu" : "cpu");
            insert.Parameters.AddWithValue("priority", spec.Priority.IsHigh ? "high" : spec.Priority.IsLow ? "low" : "normal");
            insert.Parameters.AddWithValue("total", (long)spec.Training.Episodes);
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

    public async Task<IReadOnlyList<StoredRun>> ListAsync(string? experiment = null, string? status = null, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand("""
            select id, name, model, status, queue, priority, sweep_index, point::text, episodes_done, episodes_total, worker, error, job_id
            from mannlab.runs
            where (@name is null or name = @name) and (@status is null or status = @status)
            order by name, sweep_index
            """);
        command.Parameters.AddWithValue("name", NpgsqlDbType.Text, (object?)experiment ?? DBNull.Value);
        command.Parameters.AddWithValue("status", NpgsqlDbType.Text, (object?)status ?? DBNull.Value);
        var runs = new List<StoredRun>();
        await using var rows = await command.ExecuteReaderAsync(cancel);
        while (await rows.ReadAsync(cancel))
            runs.Add(new StoredRun(rows.GetString(0), rows.GetString(1), rows.GetString(2), rows.GetString(3), rows.GetString(4), rows.GetString(5),
                rows.GetInt32(6), rows.GetString(7), rows.GetInt64(8), rows.GetInt64(9),
                rows.IsDBNull(10) ? null : rows.GetString(10), rows.IsDBNull(11) ? null : rows.GetString(11), rows.IsDBNull(12) ? null : rows.GetString(12)));
        return runs;
    }
}
