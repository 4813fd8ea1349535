using System.Diagnostics;
using MannLab.Runs;
using MannLab.Spec;
using Npgsql;

namespace MannLab.Storage;

/// <summary>
/// What recording costs (<c>mannlab db bench</c>): metric rows written as a training process writes
/// them, through <see cref="DatabaseSink"/> under a lease, into a scratch run that is deleted at the
/// end, whatever happens. A paper-size run writes about 20 metrics every 160 episodes: a write of 20
/// rows is the common case; larger ones are what a sink writes after holding records through an
/// outage, and a rewrite of rows already there is what a resumed run does.
/// </summary>
public static class RecordingBench
{
    /// <summary>
    /// One write size, of new rows or of rows already there: the median write, and per 1,000 rows
    /// over all of them; the metrics table's growth per row (indexes included).
    /// </summary>
    public sealed record Result(int RowsPerWrite, bool Rewrite, int Writes, double MedianMs, double MsPerThousand, double RowsPerSecond, double BytesPerRow);

    /// <summary>The metrics a run records at each step.</summary>
    private const int MetricsPerStep = 20;

    public static IReadOnlyList<Result> Run(NpgsqlDataSource db, int rows)
    {
        var name = $"db-bench-{Guid.NewGuid():N}"[..21];
        var spec = Experiments.parse($"{name}.yaml", $$"""
            name: {{name}}
            dataset: {source: synthetic}
            task: {classes: 2, instances: 2}
            model: {kind: lstm, hidden: 4}
            training: {episodes: 1}
            """);
        if (spec.IsError) throw new InvalidOperationException("the bench's scratch spec: " + string.Join("; ", spec.ErrorValue));
        var store = new RunStore(db);
        var runId = store.RegisterAsync(spec.ResultValue).GetAwaiter().GetResult().Single();
        try
        {
            var worker = $"{Environment.MachineName}:{Environment.ProcessId}:db-bench";
            if (new RunLeases(db).TryAcquireAsync(runId, worker, TimeSpan.FromHours(1), null).GetAwaiter().GetResult() is not LeaseResult.Acquired)
                throw new InvalidOperationException($"the scratch run {runId} could not be leased");
            var sink = new DatabaseSink(db, runId, worker);
            // Each size writes steps of its own; the rewrite goes over the 200-a-write steps again.
            var span = (long)rows / MetricsPerStep * 160;
            Result[] results =
            [
                Measure(db, sink, rows, 20, 0),
                Measure(db, sink, rows, 200, span),
                Measure(db, sink, rows, 2000, 2 * span),
                Measure(db, sink, rows, 200, span, rewrite: true),
            ];
            using var stored = db.CreateCommand("select count(*) from mannlab.metrics where run_id = $1");
            stored.Parameters.AddWithValue(runId);
            var expected = results.Where(r => !r.Rewrite).Sum(r => (long)r.Writes * r.RowsPerWrite);
            if ((long)stored.ExecuteScalar()! is var count && count != expected)
                throw new InvalidOperationException($"the scratch run has {count} metric rows, not the {expected} written: the figures would be wrong");
            return results;
        }
        finally
        {
            using var delete = db.CreateCommand("delete from mannlab.runs where id = $1");
            delete.Parameters.AddWithValue(runId);
            delete.ExecuteNonQuery();
            using var experiment = db.CreateCommand("delete from mannlab.experiments where name = $1");
            experiment.Parameters.AddWithValue(name);
            experiment.ExecuteNonQuery();
        }
    }

    /// <summary>Writes <paramref name="rows"/> rows, <paramref name="perWrite"/> at a time, at the steps after <paramref name="first"/>.</summary>
    private static Result Measure(NpgsqlDataSource db, DatabaseSink sink, int rows, int perWrite, long first, bool rewrite = false)
    {
        var before = MetricsBytes(db);
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        for (var written = 0; written + perWrite <= rows; written += perWrite)
        {
            var metrics = Enumerable.Range(0, perWrite).Select(i =>
                new Metric(first + (written + i) / MetricsPerStep * 160 + 160, $"metric_{i % MetricsPerStep:00}", i * 1e-3)).ToList();
            var one = Stopwatch.StartNew();
            sink.Record(metrics, []);
            times.Add(one.Elapsed.TotalMilliseconds);
            if (sink.HeldWrites > 0) throw new InvalidOperationException("the database did not take a write: the figures would be wrong");
        }
        var seconds = total.Elapsed.TotalSeconds;
        var count = times.Count * perWrite;
        times.Sort();
        return new Result(perWrite, rewrite, times.Count, times[times.Count / 2], seconds * 1000 / count * 1000, count / seconds, (double)(MetricsBytes(db) - before) / count);
    }

    private static long MetricsBytes(NpgsqlDataSource db)
    {
        using var size = db.CreateCommand("select pg_total_relation_size('mannlab.metrics')");
        return (long)size.ExecuteScalar()!;
    }
}
