using System.Globalization;
using MannLab.Spec;
using MannLab.Training;

namespace MannLab.Models.Tests;

/// <summary>Small real specs and real output folders for training tests.</summary>
public sealed class TrainingFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mannlab-train-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);

    public static Run Spec(string yaml)
    {
        var result = Experiments.parse("test.yaml", yaml);
        result.IsOk.Should().BeTrue(result.IsError ? string.Join("\n", result.ErrorValue.Select(e => e.ToString())) : "");
        return result.ResultValue.Runs.Head;
    }

    /// <summary>A small MANN on synthetic glyphs: fast enough for many iterations in a test.</summary>
    public const string SmallMann = """
        name: small
        dataset:
          source: synthetic
          image_size: 12
          synthetic: {alphabets: 6, characters: 8, drawers: 12}
        task: {classes: 3, instances: 4}
        model:
          kind: mann
          hidden: 32
          memory: {slots: 16, width: 8, read_heads: 2}
        training: {optimizer: adam, lr: 1e-3, batch_size: 8, episodes: 400, seed: 5}
        evaluation: {every: 100, episodes: 24, instances: [1, 2, 4]}
        checkpoint: {every: 100}
        """;

    /// <summary>SmallMann's task as a curriculum: 2 classes, then 3 from episode 150, 4 from 300; 4 steps per class.</summary>
    public const string SmallCurriculum = "task: {classes: 4, length_per_class: 4, curriculum: {start: 2, every: 150}}";

    public (FolderSink Sink, string Folder) Sink(Run run, string name)
    {
        var folder = System.IO.Path.Combine(Path, name);
        return (new FolderSink(folder, run.Id, run.Json, run.PointText), folder);
    }

    /// <summary>metrics.csv rows as (episode, name, value), without the machine's measurements (throughput, memory).</summary>
    public static List<(long, string, double)> Metrics(string folder) =>
        [.. File.ReadLines(System.IO.Path.Combine(folder, "metrics.csv")).Skip(1)
            .Select(l => l.Split(','))
            .Where(p => !Trainer.MachineMetrics.Contains(p[1]))
            .Select(p => (long.Parse(p[0]), p[1], double.Parse(p[2], CultureInfo.InvariantCulture)))];
}
