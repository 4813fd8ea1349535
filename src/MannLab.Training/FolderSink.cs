using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MannLab.Runs;

namespace MannLab.Training;

/// <summary>
/// A run's results as files, for `mannlab train`: the resolved spec, the run record, metrics (CSV,
/// and JSON by metric), per-instance accuracies (CSV), the final per-instance table, the
/// checkpoint and, for a MANN, the picture of its memory at the checkpoint. A resumed run first drops whatever was recorded after its checkpoint, so nothing is
/// duplicated. Every write is whole or nothing (<see cref="SafeFile"/>): a full disk fails the run
/// naming the file, and leaves every file as it was.
/// </summary>
public sealed class FolderSink(string folder, string runId, string specJson, string pointText) : ITrainingSink
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private string MetricsCsv => Path.Combine(folder, "metrics.csv");
    private string InstancesCsv => Path.Combine(folder, "instances.csv");
    /// <summary>Every metric recorded so far, by name: metrics.json is written from these, not rebuilt from the CSV.</summary>
    private readonly Dictionary<string, List<(long Episode, double Value)>> _series = [];
    private readonly JsonObject _run = new()
    {
        ["id"] = runId,
        ["point"] = pointText,
    };

    public string CheckpointFile => Path.Combine(folder, "checkpoint.bin");

    public void Started(long episode, RunEnvironment environment)
    {
        Directory.CreateDirectory(folder);
        var spec = JsonNode.Parse(specJson)!;
        SafeFile.WriteText(Path.Combine(folder, "spec.json"), spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        Truncate(MetricsCsv, "episode,name,value", episode);
        _series.Clear();
        foreach (var line in File.ReadLines(MetricsCsv).Skip(1))
        {
            var parts = line.Split(',');
            Add(long.Parse(parts[0], Invariant), parts[1], double.Parse(parts[2], Invariant));
        }
        // A folder written before tallies had a class count (no curriculum then): its rows are at the
        // task's classes. A regression's folder has no such rows (nor classes).
        var taskClasses = spec["task"]?["classes"]?.GetValue<int>() ?? 0;
        Truncate(InstancesCsv, "episode,split,instance,correct,total,accuracy,classes", episode,
            line => line.Count(c => c == ',') == 5 ? string.Create(Invariant, $"{line},{taskClasses}") : line);
        _run["environment"] = JsonSerializer.SerializeToNode(environment);
        _run["status"] = RunStatus.Running;
        _run["started_at"] = DateTimeOffset.UtcNow.ToString("O");
        _run["resumed_from_episode"] = episode;
        WriteRun();
    }

    /// <summary>Keeps the header and the rows at or before <paramref name="episode"/>, each in <paramref name="current"/> form (as they are, without it).</summary>
    private static void Truncate(string file, string header, long episode, Func<string, string>? current = null)
    {
        var kept = File.Exists(file)
            ? File.ReadLines(file).Skip(1).Where(l => long.Parse(l[..l.IndexOf(',')], Invariant) <= episode).Select(current ?? (line => line)).ToList()
            : [];
        SafeFile.WriteLines(file, [header, .. kept]);
    }

    public void Record(IReadOnlyList<Metric> metrics, IReadOnlyList<InstanceAccuracy> instances)
    {
        SafeFile.AppendLines(MetricsCsv, metrics.Select(m => string.Create(Invariant, $"{m.Episode},{m.Name},{m.Value:R}")));
        foreach (var m in metrics) Add(m.Episode, m.Name, m.Value);
        SafeFile.AppendLines(InstancesCsv, instances.Select(r =>
            string.Create(Invariant, $"{r.Episode},{r.Split},{r.Instance},{r.Correct},{r.Total},{r.Accuracy:R},{r.Classes}")));
    }

    public void Checkpointed(long episode, string file)
    {
        _run["checkpoint"] = new JsonObject { ["episode"] = episode, ["file"] = Path.GetFileName(file) };
        WriteRun();
        WriteMetricsJson();
    }

    /// <summary>memory.png, the newest checkpoint's picture (`mannlab inspect` draws any other episode).</summary>
    public void MemoryDrawn(long episode, byte[] png) => SafeFile.Write(Path.Combine(folder, "memory.png"), png);

    /// <summary>bands.json, the newest checkpoint's predictions of a 1-D regression.</summary>
    public void BandsDrawn(IReadOnlyList<RegressionBands> bands) =>
        SafeFile.WriteText(Path.Combine(folder, "bands.json"), JsonSerializer.Serialize(bands, new JsonSerializerOptions { WriteIndented = true }));

    public void Finished(TrainingResult result)
    {
        _run["status"] = RunStatus.After(result.Outcome);
        _run["episodes"] = result.Episodes;
        _run["reason"] = result.Reason;
        _run["finished_at"] = DateTimeOffset.UtcNow.ToString("O");
        WriteRun();
        if (!Directory.Exists(folder)) return;
        WriteMetricsJson();
        if (result.FinalEvaluation.Count == 0) return;
        SafeFile.WriteText(Path.Combine(folder, "final-instances.json"), JsonSerializer.Serialize(
            result.FinalEvaluation.Select(r => new { episode = r.Episode, classes = r.Classes, instance = r.Instance, correct = r.Correct, total = r.Total, accuracy = r.Accuracy }),
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        SafeFile.WriteText(Path.Combine(folder, "final-instances.txt"), FinalTable(result.FinalEvaluation));
    }

    /// <summary>The final per-instance table, as printed by `mannlab train`: a line for each class count evaluated.</summary>
    public static string FinalTable(IReadOnlyList<InstanceAccuracy> rows)
    {
        var text = new StringBuilder();
        var counts = rows.GroupBy(r => r.Classes).ToList();
        text.AppendLine($"held-out accuracy by instance, after {rows[0].Episode} episodes ({rows[0].Total} first sights{(counts.Count > 1 ? $" at {rows[0].Classes} classes" : "")}):");
        var label = counts.Count > 1 ? "classes  " : "";
        text.AppendLine(label + string.Join("  ", counts[0].Select(r => $"{RunFormat.Ordinal(r.Instance),6}")));
        foreach (var count in counts)
            text.AppendLine((counts.Count > 1 ? $"{count.Key,7}  " : "") + string.Join("  ", count.Select(r => $"{100 * r.Accuracy,5:F1}%")));
        return text.ToString();
    }

    private void WriteRun()
    {
        if (!Directory.Exists(folder)) return;
        SafeFile.WriteText(Path.Combine(folder, "run.json"), _run.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private void Add(long episode, string name, double value)
    {
        if (!_series.TryGetValue(name, out var series)) _series[name] = series = [];
        series.Add((episode, value));
    }

    /// <summary>
    /// metrics.json: {name: [[episode, value], ...]}, streamed from the recorded series. Rebuilding
    /// it from metrics.csv at every checkpoint made each checkpoint cost more memory than the last.
    /// </summary>
    private void WriteMetricsJson() => SafeFile.Write(Path.Combine(folder, "metrics.json"), file =>
    {
        using var json = new Utf8JsonWriter(file);
        json.WriteStartObject();
        foreach (var (name, series) in _series)
        {
            json.WriteStartArray(name);
            foreach (var (episode, value) in series)
            {
                json.WriteStartArray();
                json.WriteNumberValue(episode);
                if (double.IsFinite(value)) json.WriteNumberValue(value);
                else json.WriteNullValue();
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    });
}
