using MannLab.Runs;
using MannLab.Training;

namespace MannLab.Models.Tests;

/// <summary>
/// Learning, not just running: with a fixed seed on synthetic glyphs and a CI-sized budget
/// (44,000 episodes, about a minute), the MANN binds new classes after one sight. Calibration
/// (BENCHMARKS.md): the 2nd-instance accuracy reached 78.6%, 70.4% and 72.3% for seeds 1, 2 and 3,
/// where chance is 33.3%; the threshold, 55%, sits well below all three, so a change of CPU or
/// BLAS path does not make the test flaky. One thread and fixed seeds make each run deterministic.
/// On that small task the LSTM keeps up with the MANN, so the comparison of the two is made on the
/// paper's task, where memory is what separates them (MannLab.Cli.Tests.MannVersusLstmTests).
/// </summary>
[Trait(TestKind.Trait, TestKind.Learning)]
public class LearningTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>3-way episodes of 6 sights per class on small synthetic glyphs.</summary>
    public const string Mann = """
        name: learning
        dataset:
          source: synthetic
          image_size: 12
          synthetic: {alphabets: 12, characters: 10, drawers: 12}
          augment: {translate: 0, rotate: 0}
        task: {classes: 3, instances: 6}
        model: {kind: mann, hidden: 64, memory: {slots: 32, width: 16, read_heads: 2}, lrua: {least_used: per-head}}
        training: {optimizer: adam, lr: 3e-3, batch_size: 16, episodes: 44000, seed: 1}
        evaluation: {every: 44000, episodes: 256, instances: [1, 2, 3, 6]}
        checkpoint: {every: 44000}
        """;

    [Fact]
    public void Mann_binds_new_classes_after_one_sight_well_above_chance()
    {
        var run = TrainingFolder.Spec(Mann);
        var (sink, _) = _folder.Sink(run, run.Id);

        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();

        result.Outcome.Should().Be(Outcome.Completed);
        var second = result.FinalEvaluation.Single(r => r.Instance == 2);
        second.Total.Should().Be(256 * 3);
        second.Accuracy.Should().BeGreaterThan(0.55, "chance is 1/3; calibrated runs reached 70-79%");
        // Before the first sight the model can only guess among labels not yet given: far worse.
        result.FinalEvaluation.Single(r => r.Instance == 1).Accuracy.Should().BeLessThan(second.Accuracy - 0.15);
    }
}
