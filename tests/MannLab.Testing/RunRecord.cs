using System.Globalization;
using Npgsql;

namespace MannLab.Testing;

/// <summary>
/// What a run recorded, from `mannlab train`'s folder or from the database, as lines to compare
/// exactly: every metric of the model at every step with its value's bits, and every per-instance
/// tally. What measures the machine rather than the model is left out.
/// </summary>
public static class RunRecord
{
    public static List<string> MetricsOf(string folder) =>
        Lines(Csv(folder, "metrics.csv").Select(p => (long.Parse(p[0], CultureInfo.InvariantCulture), p[1],
            double.Parse(p[2], CultureInfo.InvariantCulture) is var v && double.IsFinite(v) ? v : (double?)null)));

    public static async Task<List<string>> MetricsOf(NpgsqlDataSource db, string run)
    {
        var metrics = new List<(long, string, double?)>();
        await using var command = db.CreateCommand("select step, name, value from mannlab.metrics where run_id = @run");
        command.Parameters.AddWithValue("run", run);
        await using var rows = await command.ExecuteReaderAsync();
        while (await rows.ReadAsync()) metrics.Add((rows.GetInt64(0), rows.GetString(1), rows.IsDBNull(2) ? null : rows.GetDouble(2)));
        return Lines(metrics);
    }

    /// <summary>instances.csv's rows without the accuracy column, which the database derives: step, split, instance, correct, total, classes.</summary>
    public static List<string> InstancesOf(string folder) =>
        [.. Csv(folder, "instances.csv").Select(p => string.Join(',', [.. p[..5], p[6]])).Order(StringComparer.Ordinal)];

    public static async Task<List<string>> InstancesOf(NpgsqlDataSource db, string run)
    {
        var instances = new List<string>();
        await using var command = db.CreateCommand(
            "select step || ',' || split || ',' || instance || ',' || correct || ',' || total || ',' || classes from mannlab.instance_accuracy where run_id = @run");
        command.Parameters.AddWithValue("run", run);
        await using var rows = await command.ExecuteReaderAsync();
        while (await rows.ReadAsync()) instances.Add(rows.GetString(0));
        return [.. instances.Order(StringComparer.Ordinal)];
    }

    private static IEnumerable<string[]> Csv(string folder, string file) => File.ReadLines(Path.Combine(folder, file)).Skip(1).Select(l => l.Split(','));

    /// <summary>The database stores what is not finite as null; so does this.</summary>
    private static List<string> Lines(IEnumerable<(long Step, string Name, double? Value)> metrics) =>
        [.. metrics.Where(m => !MannLab.Training.Trainer.MachineMetrics.Contains(m.Name)).OrderBy(m => m.Step).ThenBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => $"{m.Step} {m.Name} {(m.Value is { } v ? BitConverter.DoubleToInt64Bits(v).ToString("x16") : "null")}")];
}
