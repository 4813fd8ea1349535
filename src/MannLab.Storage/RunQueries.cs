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

    /// <summary>The share of its episodes the run has trained; a run with none to train (kNN on pixels) is done once it has succeeded.</summary>
    public double Done => EpisodesTotal == 0 ? Status == RunStatus.Succeeded ? 1 : 0 : (double)EpisodesDone / EpisodesTotal;

    /// <summary>
    /// The swept values, short: "gamma=0.95 model=lstm". A swept section (stored resolved, every
    /// default in it) shows its kind and, in brackets, the values in it that are not the
    /// language's defaults ("model=mann[0.99 per-head]"), or "defaults" for a section of defaults
    /// alone and no kind ("task=defaults"); "-" for no sweep.
    /// </summary>
    public string PointLabel
    {
        get
        {
            var point = JsonNode.Parse(Point)!.AsObject();
            if (point.Count == 0) return "-";
            static string Text(JsonNode? v) => v is JsonValue value && value.TryGetValue<string>(out var s) ? s : v?.ToJsonString() ?? "null";
            static bool IsDefault(string path, JsonNode? v) =>
                Schema.fields.FirstOrDefault(f => f.Path == path) is { Plain: { } plain } && Schema.show(plain.Value) == Text(v);
            // The schema's order, not jsonb's, so that a label reads the same as the spec.
            static IEnumerable<string> Set(string path, JsonObject section) =>
                Schema.fields.Where(f => f.Path.StartsWith(path + ".", StringComparison.Ordinal) && f.Path != Schema.kind.Path)
                    .Select(f => (f.Path, Value: Find(section, f.Path[(path.Length + 1)..])))
                    .Where(leaf => leaf.Value is not null && !IsDefault(leaf.Path, leaf.Value))
                    .Select(leaf => Text(leaf.Value));
            static JsonNode? Find(JsonObject section, string relative) =>
                relative.Split('.').Aggregate((JsonNode?)section, (node, key) => node is JsonObject o ? o[key] : null);
            static string Value(string path, JsonNode? v) => v switch
            {
                // A section of defaults alone, with no kind to name it, says so rather than nothing.
                JsonObject o => (o["kind"]?.ToString(), Set(path, o).ToList()) switch
                {
                    (null, { Count: 0 }) => "defaults",
                    var (kind, set) => kind + (set.Count > 0 ? $"[{string.Join(" ", set)}]" : ""),
                },
                _ => Text(v),
            };
            return string.Join(" ", point.Select(p => $"{p.Key.Split('.')[^1]}={Value(p.Key, p.Value)}"));
        }
    }

    /// <summary>The latest held-out accuracy at the k-th sight, if evaluated.</summary>
    public double? EvalAccuracy(int k) => Latest.TryGetValue(EvalPrefix + k, out var v) ? v : null;

    /// <summary>The sights (instances) whose held-out accuracy the run has reported, in order.</summary>
    public IEnumerable<int> EvaluatedSights => Latest.Keys.Where(k => k.StartsWith(EvalPrefix)).Select(k => int.Parse(k[EvalPrefix.Length..])).Order();

    private const string EvalPrefix = "eval_acc_";
}

/// <summary>
/// What there is to see of the runs in PostgreSQL: the one read model behind the pages, `runs`,
/// `compare` and `plot`, and where a worker and a training process read a run's spec. The
/// charts' series are read in read-only transactions with a statement timeout, as the pages have
/// always read them (<see cref="QueryResult.ReadOnlyAsync"/>).
/// </summary>
public sealed class RunQueries(NpgsqlDataSource db)
{
    /// <summary>Runs by experiment name, status, id, model and tag (each filter optional), in experiment and sweep order.</summary>
    public async Task<IReadOnlyList<StoredRun>> ListAsync(string? experiment = null, string? status = null, IReadOnlyCollection<string>? ids = null,
        string? model = null, string? tag = null, CancellationToken cancel = default) =>
        (await QueryAsync(experiment, status, ids, model, tag, null, 0, cancel)).Runs;

    /// <summary>
    /// One page of the runs <see cref="ListAsync"/> lists, in its order, and how many there are in
    /// all: the runs page shows a page at a time, so its cost does not grow with the runs stored.
    /// </summary>
    public Task<(IReadOnlyList<StoredRun> Runs, long Total)> PageAsync(string? experiment, string? status, string? model, string? tag,
        int offset, int limit, CancellationToken cancel = default) =>
        QueryAsync(experiment, status, null, model, tag, limit, offset, cancel);

    private async Task<(IReadOnlyList<StoredRun> Runs, long Total)> QueryAsync(string? experiment, string? status, IReadOnlyCollection<string>? ids,
        string? model, string? tag, int? limit, int offset, CancellationToken cancel)
    {
        await using var command = db.CreateCommand("""
            select r.id, r.name, r.model, r.status, r.queue, r.priority, r.sweep_index, r.point::text, r.episodes_done, r.episodes_total,
                   r.worker, r.error, r.job_id, r.attempt, coalesce(s.latest, '{}')::text, r.wait_reason, count(*) over ()
            from mannlab.runs r left join mannlab.run_summary s on s.run_id = r.id
            where (@name::text is null or r.name = @name) and (@status::text is null or r.status = @status)
              and (@ids::text[] is null or r.id = any(@ids))
              and (@model::text is null or r.model = @model) and (@tag::text is null or r.spec->'tags' ? @tag)
            order by r.name, r.sweep_index, r.id
            limit @limit offset @offset
            """);
        command.Parameters.AddWithValue("model", NpgsqlDbType.Text, (object?)model ?? DBNull.Value);
        command.Parameters.AddWithValue("tag", NpgsqlDbType.Text, (object?)tag ?? DBNull.Value);
        command.Parameters.AddWithValue("name", NpgsqlDbType.Text, (object?)experiment ?? DBNull.Value);
        command.Parameters.AddWithValue("status", NpgsqlDbType.Text, (object?)status ?? DBNull.Value);
        command.Parameters.AddWithValue("ids", NpgsqlDbType.Array | NpgsqlDbType.Text, (object?)ids?.ToArray() ?? DBNull.Value);
        command.Parameters.AddWithValue("limit", NpgsqlDbType.Integer, (object?)limit ?? DBNull.Value); // null: all
        command.Parameters.AddWithValue("offset", NpgsqlDbType.Integer, offset);
        var runs = new List<StoredRun>();
        long total = 0;
        await using var rows = await command.ExecuteReaderAsync(cancel);
        while (await rows.ReadAsync(cancel))
        {
            var latest = JsonNode.Parse(rows.GetString(14))!.AsObject()
                .ToDictionary(p => p.Key, p => p.Value is JsonValue v && v.TryGetValue<double>(out var d) ? d : (double?)null);
            runs.Add(new StoredRun(rows.GetString(0), rows.GetString(1), rows.GetString(2), rows.GetString(3), rows.GetString(4), rows.GetString(5),
                rows.GetInt32(6), rows.GetString(7), rows.GetInt64(8), rows.GetInt64(9),
                rows.IsDBNull(10) ? null : rows.GetString(10), rows.IsDBNull(11) ? null : rows.GetString(11),
                rows.IsDBNull(12) ? null : rows.GetString(12), rows.GetInt32(13), latest, rows.IsDBNull(15) ? null : rows.GetString(15)));
            total = rows.GetInt64(16);
        }
        return (runs, total);
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
    /// Accuracy at each sight against episodes: one series per instance, named by its ordinal. Held-out
    /// rows are the task's classes; training rows whatever training was at (a curriculum's grow).
    /// </summary>
    public async Task<IReadOnlyList<Series>> InstanceCurvesAsync(string runId, string split = "test")
    {
        var rows = (await Query($"""
            select instance, step, correct::double precision / nullif(total, 0) from mannlab.instance_accuracy
            where run_id = @run and split = @split and (split = 'train' or {AtTaskClasses}) order by instance, step
            """, ("run", runId), ("split", split))).Rows;
        return [.. rows.GroupBy(r => Convert.ToInt32(r[0])).Select(g => new Series(RunFormat.Ordinal(g.Key),
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => r[2] is null ? double.NaN : Convert.ToDouble(r[2]))]))];
    }

    /// <summary>The metrics <paramref name="names"/> of a run against episodes, one series each.</summary>
    public async Task<IReadOnlyList<Series>> MetricCurvesAsync(string runId, params string[] names)
    {
        var rows = (await Query("""
            select name, step, value from mannlab.metrics where run_id = @run and name = any(@names) and value is not null order by name, step
            """, ("run", runId), ("names", names))).Rows;
        return [.. rows.GroupBy(r => (string)r[0]!).Select(g => new Series(g.Key,
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => Convert.ToDouble(r[2]))]))];
    }

    /// <summary>
    /// A run's final held-out accuracy against the class count (the task's and each of
    /// evaluation.classes), one series per sight named by its ordinal, and the task's classes (what
    /// it trained for); no series when the run was evaluated at its task's classes alone.
    /// </summary>
    public async Task<(IReadOnlyList<Series> BySight, int TaskClasses)> AccuracyByClassesAsync(string runId)
    {
        var rows = (await Query("""
            select instance, classes, accuracy, trained from mannlab.accuracy_by_classes where run_id = @run order by instance, classes
            """, ("run", runId))).Rows;
        var trained = rows.Where(r => (bool)r[3]!).Select(r => Convert.ToInt32(r[1])).FirstOrDefault();
        if (rows.Select(r => Convert.ToInt32(r[1])).Distinct().Count() < 2) return ([], trained);
        return ([.. rows.GroupBy(r => Convert.ToInt32(r[0])).Select(g => new Series(RunFormat.Ordinal(g.Key),
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => r[2] is null ? double.NaN : Convert.ToDouble(r[2]))]))], trained);
    }

    /// <summary>
    /// A regression's final held-out scores against the points seen (step t has seen t - 1), from
    /// the view regression_steps: the model's and the GP posterior's, one series each, of the NLL
    /// (<paramref name="squaredError"/> false) or the squared error; none before its first evaluation.
    /// </summary>
    public async Task<IReadOnlyList<Series>> RegressionStepsAsync(string runId, bool squaredError = false)
    {
        var rows = (await Query($"""
            select predictor, step - 1, {(squaredError ? "squared_error" : "nll")} from mannlab.regression_steps
            where run_id = @run and final order by predictor desc, step
            """, ("run", runId))).Rows;
        return [.. rows.GroupBy(r => (string)r[0]!).Select(g => new Series(g.Key == "gp" ? "GP posterior" : "model",
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => r[2] is null ? double.NaN : Convert.ToDouble(r[2]))]))];
    }

    /// <summary>A 1-D regression's predictions at its latest checkpoint, one set per count of points seen; none before it.</summary>
    public async Task<IReadOnlyList<RegressionBands>> LatestBandsAsync(string runId)
    {
        var rows = (await Query("""
            select bands::text from mannlab.regression_bands
            where run_id = @run and step = (select max(step) from mannlab.regression_bands where run_id = @run) order by seen
            """, ("run", runId))).Rows;
        return [.. rows.Select(r => System.Text.Json.JsonSerializer.Deserialize<RegressionBands>((string)r[0]!)!)];
    }

    /// <summary>Rows of run @run at its task.classes.</summary>
    private const string AtTaskClasses = "classes = (select (spec #>> '{task,classes}')::int from mannlab.runs where id = @run)";

    /// <summary>A run's final held-out accuracy at each instance (its last evaluation, at the task's classes), or null before its first.</summary>
    public async Task<Series?> FinalInstancesAsync(string runId, string label)
    {
        var rows = (await Query($"""
            select instance, correct::double precision / nullif(total, 0) from mannlab.instance_accuracy
            where run_id = @run and split = 'test' and {AtTaskClasses} and step = (select max(step) from mannlab.instance_accuracy where run_id = @run and split = 'test')
            order by instance
            """, ("run", runId))).Rows;
        return rows.Count == 0 ? null : new Series(label, [.. rows.Select(r => Convert.ToDouble(r[0]))], [.. rows.Select(r => r[1] is null ? double.NaN : Convert.ToDouble(r[1]))]);
    }

    /// <summary>
    /// The paper's accuracy by instance (Santoro et al. 2016, Tables 1 and 2), one series per table,
    /// setting and model, for those of <paramref name="runIds"/> whose setting and model are the
    /// paper's: named like "mann_lstm_controller (Santoro et al. 2016, Table 2, 15 classes, as transcribed)".
    /// </summary>
    public async Task<IReadOnlyList<Series>> PaperResultsAsync(IReadOnlyCollection<string> runIds)
    {
        var rows = (await Query("""
            select p.model || ' (Santoro et al. 2016, ' || initcap(replace(p.paper_table, 'table', 'table ')) ||
                   case when p.paper_table = 'table1' then '' else ', ' || p.classes || ' classes' end ||
                   case when p.provenance = 'published' then '' else ', ' || p.provenance end || ')',
                   p.instance, p.accuracy
            from mannlab.paper_results p
            where p.source = 'paper'
              and (p.paper_table, p.classes, p.model) in
                  (select mannlab.paper_table(spec), (spec #>> '{task,classes}')::int, mannlab.paper_model(spec) from mannlab.runs where id = any(@ids))
            order by 1, p.instance
            """, ("ids", runIds.ToArray()))).Rows;
        return [.. rows.GroupBy(r => (string)r[0]!).Select(g => new Series(g.Key,
            [.. g.Select(r => Convert.ToDouble(r[1]))], [.. g.Select(r => Convert.ToDouble(r[2]))]))];
    }

    /// <summary>The paper's rows and MannLab's succeeded runs of them, for the reproduction report.</summary>
    public async Task<PaperReportData> PaperReportAsync()
    {
        var published = (await Query("""
            select p.paper_table, p.classes, p.model, p.provenance, p.instance, p.accuracy, p.reimplementation, p.reimplementation_accuracy
            from mannlab.paper_reference p
            order by p.paper_table, p.classes, p.model, p.instance
            """)).Rows;
        var paper = published.GroupBy(r => ((string)r[0]!, Convert.ToInt32(r[1]), (string)r[2]!, (string)r[3]!)).Select(g => new PaperRow(
            g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Key.Item4,
            g.ToDictionary(r => Convert.ToInt32(r[4]), r => Convert.ToDouble(r[5])),
            g.Where(r => r[6] is not null).ToDictionary(r => Convert.ToInt32(r[4]), r => ((string)r[6]!, Convert.ToDouble(r[7]))))).ToList();

        var compared = (await Query("""
            select c.paper_table, c.classes, c.paper_model, c.name, c.variant, c.trained_spec::text, c.run_ids, c.instance, c.mean_accuracy, c.ci95,
                   (select avg(r.episodes_done)::double precision from mannlab.runs r where r.id = any(c.run_ids)),
                   (select avg((s.latest ->> 'training_minutes')::double precision) from mannlab.run_summary s where s.run_id = any(c.run_ids))
            from mannlab.paper_comparison c
            where c.paper_model is not null
            order by c.paper_table, c.classes, c.paper_model, c.name, c.variant, c.trained_spec::text, c.instance
            """)).Rows;
        var ours = compared.GroupBy(r => ((string)r[0]!, Convert.ToInt32(r[1]), (string)r[2]!, (string)r[3]!, (string)r[4]!, (string)r[5]!))
            .Select(g => new ReproducedRow(g.Key.Item1, g.Key.Item2, g.Key.Item3, g.Key.Item4, g.Key.Item5, g.Key.Item6,
                [.. ((string[])g.First()[6]!)],
                g.ToDictionary(r => Convert.ToInt32(r[7]), r => (Convert.ToDouble(r[8]), r[9] is null ? (double?)null : Convert.ToDouble(r[9]))),
                Convert.ToDouble(g.First()[10]), g.First()[11] is null ? null : Convert.ToDouble(g.First()[11]))).ToList();
        return new PaperReportData(paper, ours, await PersistentMemoryAsync(), await CurriculumAsync(), await RegressionAsync());
    }

    /// <summary>Every regression run, with its final held-out NLL by step and its latest bands.</summary>
    private async Task<IReadOnlyList<RegressionRun>> RegressionAsync()
    {
        var runs = (await Query("""
            select id, name, model, status, spec::text from mannlab.runs where spec #>> '{task,kind}' = 'regression'
            order by name, (spec #>> '{task,regression,dimensions}')::int, sweep_index, id
            """)).Rows;
        var result = new List<RegressionRun>();
        foreach (var r in runs)
        {
            var id = (string)r[0]!;
            var spec = Experiments.specOfJson((string)r[4]!).ResultValue;
            var gp = spec.Task.Regression!.Value;
            var steps = await RegressionStepsAsync(id);
            IReadOnlyList<double> Of(string name) => steps.FirstOrDefault(s => s.Name == name)?.Y ?? [];
            result.Add(new RegressionRun(id, (string)r[1]!, (string)r[2]!, (string)r[3]!, gp.Dimensions, gp.LengthScale, Schema.describeTask(spec.Task),
                Of("model"), Of("GP posterior"), await LatestBandsAsync(id)));
        }
        return result;
    }

    /// <summary>
    /// Every Omniglot run trained with a curriculum, grouped into settings (the spec less its seed),
    /// each run with its final held-out accuracy by class count and sight once it has succeeded.
    /// </summary>
    private async Task<IReadOnlyList<CurriculumSetting>> CurriculumAsync()
    {
        const string curriculumRuns = "r.spec #> '{task,curriculum}' is not null and r.spec #>> '{dataset,source}' = 'omniglot'";
        var rows = (await Query($$"""
            select (r.spec #- '{training,seed}')::text, r.name, r.model, trim(both ', ' from replace(mannlab.paper_variant(r.spec), 'curriculum', '')),
                   (r.spec #>> '{task,curriculum,start}') || ' to ' || (r.spec #>> '{task,classes}') || ' classes, +' ||
                   (r.spec #>> '{task,curriculum,add}') || ' every ' || to_char((r.spec #>> '{task,curriculum,every}')::int, 'FM999,999,999') || ' episodes',
                   (r.spec #>> '{task,classes}')::int, r.id, r.seed, r.status, a.classes, a.instance, a.accuracy
            from mannlab.runs r left join mannlab.accuracy_by_classes a on a.run_id = r.id
            where {{curriculumRuns}}
            order by r.name, r.sweep_index, r.id, a.classes, a.instance
            """)).Rows;
        var means = (await Query($$"""
            select (r.spec #- '{training,seed}')::text, a.classes, a.instance, count(*), avg(a.accuracy),
                   mannlab.t975(count(*) - 1) * stddev_samp(a.accuracy) / sqrt(count(*))
            from mannlab.runs r join mannlab.accuracy_by_classes a on a.run_id = r.id
            where {{curriculumRuns}} and r.status = {{RunStatus.Sql(RunStatus.Succeeded)}}
            group by 1, 2, 3 order by 1, 2, 3
            """)).Rows.ToLookup(r => (string)r[0]!, r => new CurriculumMean(Convert.ToInt32(r[1]), Convert.ToInt32(r[2]), Convert.ToInt32(r[3]),
                Convert.ToDouble(r[4]), r[5] is null ? null : Convert.ToDouble(r[5])));
        return [.. rows.GroupBy(r => (string)r[0]!).Select(setting => new CurriculumSetting((string)setting.First()[1]!, (string)setting.First()[2]!,
            (string)setting.First()[3]!, (string)setting.First()[4]!, Convert.ToInt32(setting.First()[5]),
            [.. setting.GroupBy(r => (string)r[6]!).Select(run => new CurriculumRun(run.Key, Convert.ToInt32(run.First()[7]), (string)run.First()[8]!,
                run.Where(r => r[9] is not null && r[11] is not null).GroupBy(r => Convert.ToInt32(r[9])).ToDictionary(c => c.Key,
                    c => (IReadOnlyDictionary<int, double>)c.ToDictionary(r => Convert.ToInt32(r[10]), r => Convert.ToDouble(r[11])))))],
            [.. means[setting.Key]]))];
    }

    /// <summary>Every Omniglot MANN run that has a twin differing only in memory.persistent, with its held-out curve at the 2nd sight.</summary>
    private async Task<IReadOnlyList<MemoryComparisonRun>> PersistentMemoryAsync()
    {
        var rows = (await Query("""
            with mann as (
                select r.id, r.status, r.spec, coalesce((r.spec #>> '{model,memory,persistent}')::boolean, false) as persistent,
                       (r.spec #- '{model,memory,persistent}') - 'name' - 'description' - 'tags' as setting
                from mannlab.runs r
                where r.model = 'mann' and r.spec #>> '{dataset,source}' = 'omniglot'
            ), paired as (
                select m.* from mann m where exists (select 1 from mann o where o.setting = m.setting and o.persistent <> m.persistent)
            )
            select p.setting::text, (p.spec #>> '{task,classes}')::int,
                   coalesce((p.spec #>> '{task,length}') || ' steps', (p.spec #>> '{task,instances}') || ' per class'),
                   p.persistent, p.id, p.status, ia.step, ia.correct::double precision / nullif(ia.total, 0)
            from paired p left join mannlab.instance_accuracy ia on ia.run_id = p.id and ia.split = 'test' and ia.instance = 2
                                                     and ia.classes = (p.spec #>> '{task,classes}')::int
            order by p.setting::text, p.persistent, p.id, ia.step
            """)).Rows;
        return [.. rows.GroupBy(r => (string)r[4]!).Select(g => new MemoryComparisonRun((string)g.First()[0]!, Convert.ToInt32(g.First()[1]),
            (string)g.First()[2]!, (bool)g.First()[3]!, g.Key, (string)g.First()[5]!,
            g.Where(r => r[6] is not null && r[7] is not null).ToDictionary(r => Convert.ToInt64(r[6]), r => Convert.ToDouble(r[7]))))];
    }

    /// <summary>A run's resolved spec (indented), its environment and its attempts, for its page; null if there is no such run.</summary>
    public async Task<(string Spec, QueryResult Environment, QueryResult Attempts)?> DetailAsync(string runId)
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
    public async Task<IReadOnlyList<long>> MemoryStepsAsync(string runId) =>
        [.. (await Query("select step from mannlab.memory_snapshots where run_id = @run order by step", ("run", runId))).Rows.Select(r => Convert.ToInt64(r[0]))];

    public async Task<byte[]?> MemoryPictureAsync(string runId, long step) =>
        (await Query("select png from mannlab.memory_snapshots where run_id = @run and step = @step", ("run", runId), ("step", step))).Rows.FirstOrDefault()?[0] as byte[];

    public async Task<byte[]?> CheckpointBytesAsync(string runId) =>
        (await Query("select bytes from mannlab.checkpoints where run_id = @run", ("run", runId))).Rows.FirstOrDefault()?[0] as byte[];

    /// <summary>The values the runs page filters by: every "experiment", "model" or "tag" there is.</summary>
    public async Task<IReadOnlyList<string>> DistinctAsync(string column)
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

    private Task<QueryResult> Query(string sql, params (string Name, object? Value)[] parameters) =>
        QueryResult.ReadOnlyAsync(db, sql, parameters.ToDictionary(p => p.Name, p => p.Value));
}
