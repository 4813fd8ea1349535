using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Storage.Tests;

/// <summary>How a stored run names its sweep point and its progress, as `runs`, the pages and the plots show them.</summary>
public class StoredRunTests
{
    private static StoredRun Run(string point, long done = 0, long total = 100, string status = "running") =>
        new("abc", "x", "mann", status, "cpu", "normal", 0, point, done, total, null, null, null, 1, new Dictionary<string, double?>(), null);

    [Theory]
    [InlineData("{}", "-")]
    [InlineData("""{"model.lrua.gamma": 0.9, "training.seed": 1}""", "gamma=0.9 seed=1")]
    [InlineData("""{"model": {"kind": "lstm"}}""", "model=lstm")]
    // Two MANNs of one sweep are told apart by what each sets beside its kind.
    [InlineData("""{"model": {"kind": "mann", "lrua": {"gamma": 0.99}}, "training.seed": 0}""", "model=mann[0.99] seed=0")]
    [InlineData("""{"model": {"kind": "mann", "lrua": {"gamma": 0.99, "least_used": "per-head"}}}""", "model=mann[0.99 per-head]")]
    [InlineData("""{"model": {"kind": "knn", "features": "autoencoder"}}""", "model=knn[autoencoder]")]
    [InlineData("""{"task": {"classes": 15, "labels": "string"}}""", "task=15 string")]
    public void A_point_label_names_each_swept_value(string point, string label) => Run(point).PointLabel.Should().Be(label);

    [Fact]
    public void A_run_with_no_episodes_to_train_is_done_once_it_has_finished()
    {
        Run("{}", 0, 0, RunStatus.Queued).Done.Should().Be(0);
        Run("{}", 0, 0, RunStatus.Succeeded).Done.Should().Be(1);
        Run("{}", 250, 1000).Done.Should().Be(0.25);
    }
}
