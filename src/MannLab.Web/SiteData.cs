using MannLab.Drawing;
using MannLab.Runs;
using Npgsql;

namespace MannLab.Web;

/// <summary>The result of a query, as the pages and charts read it.</summary>
public sealed record QueryResult(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows)
{
    public int Column(string name)
    {
        var i = Columns.ToList().FindIndex(c => c == name);
        return i >= 0 ? i : throw new ArgumentException($"the query has no column '{name}' (it has {string.Join(", ", Columns)})");
    }
}

/// <summary>
/// What the pages read from PostgreSQL. Filters from the browser are always bound as parameters,
/// never spliced into SQL. Dashboard SQL runs on the read-only data source, in a read-only
/// transaction with a statement timeout.
/// </summary>
public sealed class SiteData(NpgsqlDataSource db, NpgsqlDataSource readOnly)
{
    public static async Task<QueryResult> QueryAsync(NpgsqlDataSource source, string sql, IReadOnlyDictionary<string, object?> parameters,
        bool readOnly, CancellationToken cancel = default)
    {
        await using var connection = await source.OpenConnectionAsync(cancel);
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        if (readOnly)
            await using (var guard = new NpgsqlCommand("set transaction read only; set local statement_timeout = '10s'", connection, transaction))
                await guard.ExecuteNonQueryAsync(cancel);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
            if (sql.Contains("@" + name)) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancel);
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync(cancel))
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return new QueryResult(columns, rows);
    }

    public Task<QueryResult> Dashboard(string sql, IReadOnlyDictionary<string, object?> parameters, CancellationToken cancel = default) =>
        QueryAsync(readOnly, sql, parameters, readOnly: true, cancel);

    private Task<QueryResult> Query(string sql, params (string Name, object? Value)[] parameters) =>
        QueryAsync(db, sql, parameters.ToDictionary(p => p.Name, p => p.Value), readOnly: true);

    /// <summary>Held-out accuracy at each sight against episodes: one series per instance.</summary>
    public async Task<IReadOnlyList<Series>> InstanceCurves(string runId, string split = "test")
    {
        var rows = (await Query("""
            select instance, step, correct::double precision / nullif(total, 0) from mannlab.instance_accuracy
            where run_id = @run and split = @split order by instance, step
            """, ("run", runId), ("split", split))).Rows;
        return [.. rows.GroupBy(r => Convert.ToInt32(r[0])).Select(g => new Series(RunFormat.Ordinal(g.Key),
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => r[2] is null ? double.NaN : Convert.ToDouble(r[2]))]))];
    }

    /// <summary>The metrics <paramref name="names"/> of a run against episodes, one series each.</summary>
    public async Task<IReadOnlyList<Series>> MetricCurves(string runId, params string[] names)
    {
        var rows = (await Query("""
            select name, step, value from mannlab.metrics where run_id = @run and name = any(@names) and value is not null order by name, step
            """, ("run", runId), ("names", names))).Rows;
        return [.. rows.GroupBy(r => (string)r[0]!).Select(g => new Series(g.Key,
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => Convert.ToDouble(r[2]))]))];
    }

    /// <summary>A run's final held-out accuracy at each instance (its last evaluation).</summary>
    public async Task<Series?> FinalInstances(string runId, string label)
    {
        var rows = (await Query("""
            select instance, correct::double precision / nullif(total, 0) from mannlab.instance_accuracy
            where run_id = @run and split = 'test' and step = (select max(step) from mannlab.instance_accuracy where run_id = @run and split = 'test')
            order by instance
            """, ("run", runId))).Rows;
        return rows.Count == 0 ? null : new Series(label, [.. rows.Select(r => Convert.ToDouble(r[0]))], [.. rows.Select(r => r[1] is null ? double.NaN : Convert.ToDouble(r[1]))]);
    }

    public async Task<(string Spec, QueryResult Environment, QueryResult Attempts)?> Detail(string runId)
    {
        var spec = await Query("select jsonb_pretty(spec) from mannlab.runs where id = @run", ("run", runId));
        if (spec.Rows.Count == 0) return null;
        var environment = await Query("""
            select host, cpu, gpu, threads, seed, git_commit, git_dirty, mannlab_version, packages::text as packages, queue, priority,
                   created_at, started_at, finished_at, error
            from mannlab.runs where id = @run
            """, ("run", runId));
        var attempts = await Query("""
            select attempt, worker, from_episode, to_episode, outcome, started_at, finished_at, error
            from mannlab.run_attempts where run_id = @run order by attempt
            """, ("run", runId));
        return ((string)spec.Rows[0][0]!, environment, attempts);
    }

    /// <summary>The checkpoints at which the run's memory was drawn.</summary>
    public async Task<IReadOnlyList<long>> MemorySteps(string runId) =>
        [.. (await Query("select step from mannlab.memory_snapshots where run_id = @run order by step", ("run", runId))).Rows.Select(r => Convert.ToInt64(r[0]))];

    public async Task<byte[]?> MemoryPicture(string runId, long step) =>
        (await Query("select png from mannlab.memory_snapshots where run_id = @run and step = @step", ("run", runId), ("step", step))).Rows.FirstOrDefault()?[0] as byte[];

    public async Task<byte[]?> CheckpointBytes(string runId) =>
        (await Query("select bytes from mannlab.checkpoints where run_id = @run", ("run", runId))).Rows.FirstOrDefault()?[0] as byte[];

    public async Task<string?> SpecJson(string runId) =>
        (await Query("select spec::text from mannlab.runs where id = @run", ("run", runId))).Rows.FirstOrDefault()?[0] as string;

    public async Task<IReadOnlyList<string>> Distinct(string column)
    {
        var sql = column switch
        {
            "experiment" => "select distinct name from mannlab.runs order by 1",
            "model" => "select distinct model from mannlab.runs order by 1",
            "tag" => "select distinct jsonb_array_elements_text(spec->'tags') from mannlab.runs order by 1",
            _ => throw new ArgumentOutOfRangeException(nameof(column)),
        };
        return [.. (await Query(sql)).Rows.Select(r => (string)r[0]!)];
    }
}
