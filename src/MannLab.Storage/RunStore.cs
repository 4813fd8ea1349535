using System.Text.Json;
using System.Text.Json.Nodes;
using MannLab.Runs;
using MannLab.Spec;
using Task = System.Threading.Tasks.Task;
using Npgsql;
using NpgsqlTypes;

namespace MannLab.Storage;

/// <summary>A run as the database holds it, with the latest value of each metric (from the run summary).</summary>
public sealed record StoredRun(string Id, string Name, string Model, string Status, string Queue, string Priority, int SweepIndex,
    string Point, long EpisodesDone, long EpisodesTotal, string? Worker, string? Error, string? JobId, int Attempt,
    IReadOnlyDictionary<string, double?> Latest, string? WaitReason)
{
    public bool Finished => RunStatus.IsFinished(Status);

    /// <summary>The swept values, short: "gamma=0.95 model=lstm" (a swept section shows its kind); "-" for none.</summary>
    public string PointLabel
    {
        get
        {
            var point = JsonNode.Parse(Point)!.AsObject();
            if (point.Count == 0) return "-";
            static string Value(JsonNode? v) => v switch
            {
                JsonObject o when o["kind"] is { } kind => kind.ToString(),
                null => "null",
                _ => v.ToJsonString(),
            };
            return string.Join(" ", point.Select(p => $"{p.Key.Split('.')[^1]}={Value(p.Value)}"));
        }
    }

    /// <summary>The latest held-out accuracy at the k-th sight, if evaluated.</summary>
    public double? EvalAccuracy(int k) => Latest.TryGetValue(EvalPrefix + k, out var v) ? v : null;

    /// <summary>The sights (instances) whose held-out accuracy the run has reported, in order.</summary>
    public IEnumerable<int> EvaluatedSights => Latest.Keys.Where(k => k.StartsWith(EvalPrefix)).Select(k => int.Parse(k[EvalPrefix.Length..])).Order();

    private const string EvalPrefix = "eval_acc_";
}

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

    /// <summary>Runs by experiment name, status, id, model and tag (each filter optional), in experiment and sweep order.</summary>
    public async Task<IReadOnlyList<StoredRun>> ListAsync(string? experiment = null, string? status = null, IReadOnlyCollection<string>? ids = null,
        string? model = null, string? tag = null, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand("""
            select r.id, r.name, r.model, r.status, r.queue, r.priority, r.sweep_index, r.point::text, r.episodes_done, r.episodes_total,
                   r.worker, r.error, r.job_id, r.attempt, coalesce(s.latest, '{}')::text, r.wait_reason
            from mannlab.runs r left join mannlab.run_summary s on s.run_id = r.id
            where (@name::text is null or r.name = @name) and (@status::text is null or r.status = @status)
              and (@ids::text[] is null or r.id = any(@ids))
              and (@model::text is null or r.model = @model) and (@tag::text is null or r.spec->'tags' ? @tag)
            order by r.name, r.sweep_index, r.id
            """);
        command.Parameters.AddWithValue("model", NpgsqlDbType.Text, (object?)model ?? DBNull.Value);
        command.Parameters.AddWithValue("tag", NpgsqlDbType.Text, (object?)tag ?? DBNull.Value);
        command.Parameters.AddWithValue("name", NpgsqlDbType.Text, (object?)experiment ?? DBNull.Value);
        command.Parameters.AddWithValue("status", NpgsqlDbType.Text, (object?)status ?? DBNull.Value);
        command.Parameters.AddWithValue("ids", NpgsqlDbType.Array | NpgsqlDbType.Text, (object?)ids?.ToArray() ?? DBNull.Value);
        var runs = new List<StoredRun>();
        await using var rows = await command.ExecuteReaderAsync(cancel);
        while (await rows.ReadAsync(cancel))
        {
            var latest = JsonNode.Parse(rows.GetString(14))!.AsObject()
                .ToDictionary(p => p.Key, p => p.Value is JsonValue v && v.TryGetValue<double>(out var d) ? d : (double?)null);
            runs.Add(new StoredRun(rows.GetString(0), rows.GetString(1), rows.GetString(2), rows.GetString(3), rows.GetString(4), rows.GetString(5),
                rows.GetInt32(6), rows.GetString(7), rows.GetInt64(8), rows.GetInt64(9),
                rows.IsDBNull(10) ? null : rows.GetString(10), rows.IsDBNull(11) ? null : rows.GetString(11),
                rows.IsDBNull(12) ? null : rows.GetString(12), rows.GetInt32(13), latest, rows.IsDBNull(15) ? null : rows.GetString(15)));
        }
        return runs;
    }

    /// <summary>The ids of runs starting with <paramref name="prefix"/> (users type the first few characters).</summary>
    public async Task<IReadOnlyList<string>> MatchIdsAsync(string prefix, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand("select id from mannlab.runs where starts_with(id, @prefix) order by id limit 10");
        command.Parameters.AddWithValue("prefix", prefix.ToLowerInvariant());
        var ids = new List<string>();
        await using var rows = await command.ExecuteReaderAsync(cancel);
        while (await rows.ReadAsync(cancel)) ids.Add(rows.GetString(0));
        return ids;
    }

    /// <summary>The resolved spec (canonical JSON) the run was registered with.</summary>
    public async Task<string> SpecJsonAsync(string runId, CancellationToken cancel = default)
    {
        await using var command = db.CreateCommand("select spec::text from mannlab.runs where id = @run");
        command.Parameters.AddWithValue("run", runId);
        return await command.ExecuteScalarAsync(cancel) as string ?? throw new InvalidOperationException($"run {runId} is not in the database");
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
