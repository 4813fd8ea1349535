using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Storage.Tests;

/// <summary>How a stored run names its sweep point and its progress, as `runs`, the pages and the plots show them.</summary>
public class StoredRunTests
{
    private static StoredRun Run(string point, long done = 0, long total = 100, string status = "running") =>
        new("abc", "x", "mann", status, "cpu", "normal", 0, point, done, total, null, null, null, 1, new Dictionary<string, double?>(), null);

    /// <summary>Each point's label, from the points as RunStore stores them (resolved, every default in a swept section).</summary>
    private static IEnumerable<string> Labels(string sweep) =>
        RunStoreTests.Parse("x.yaml", "name: x\nmodel: {kind: mann}\nsweep:\n" + sweep).Runs.Select(r => Run(RunStore.PointJson(r)).PointLabel);

    [Fact]
    public void A_point_label_names_each_swept_value()
    {
        Run("{}").PointLabel.Should().Be("-");
        Labels("  model.lrua.gamma: [0.9]\n  training.seed: [1]\n").Should().Equal("gamma=0.9 seed=1");
        // A swept section shows its kind and what it sets away from the defaults, in the schema's order:
        // two MANNs of one sweep are told apart.
        Labels("""
              model:
                - {kind: lstm}
                - {kind: mann, lrua: {gamma: 0.99}}
                - {kind: mann, lrua: {least_used: per-head, gamma: 0.99, write: add-vector}}
                - {kind: mann, access: ntm}
                - {kind: knn, features: autoencoder}
              training.seed: [0]

            """).Should().Equal("model=lstm seed=0", "model=mann[0.99] seed=0", "model=mann[0.99 per-head add-vector] seed=0",
            "model=mann[ntm] seed=0", "model=knn[autoencoder] seed=0");
        Labels("  task:\n    - {classes: 15, length: 100, labels: string}\n").Should().Equal("task=[15 100 string]");
        Labels("  task:\n    - {classes: 5, instances: 10}\n    - {classes: 10, length: 75}\n").Should().Equal("task=defaults", "task=[10 75]");
    }

    [Fact]
    public void A_run_with_no_episodes_to_train_is_done_once_it_has_succeeded()
    {
        Run("{}", 0, 0, RunStatus.Queued).Done.Should().Be(0);
        Run("{}", 0, 0, RunStatus.Failed).Done.Should().Be(0);
        Run("{}", 0, 0, RunStatus.Succeeded).Done.Should().Be(1);
        Run("{}", 250, 1000).Done.Should().Be(0.25);
    }
}
