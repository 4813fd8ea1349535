using MannLab.Runs;
using MannLab.Training;

namespace MannLab.Models.Tests;

/// <summary>
/// A checkpoint written before the models became modules (main at 10f028d: the controller's weights
/// at the top of the state, the carried memory in a section after the optimiser's state) still
/// resumes, and continues exactly as that build's uninterrupted run did.
/// Fixtures/previous-format holds that build's checkpoint at episode 200 of the spec below
/// (persistent memory, so the carried memory is in it too) and the uninterrupted run's metrics.csv,
/// both from that build's Trainer as TrainingTests drives it (a straight run; a run stopped after
/// iteration 25). Keep them as they are: they stand for every checkpoint written before.
/// </summary>
public class PreviousCheckpointFormatTests : IDisposable
{
    private const string Spec = """
        name: previous-format
        dataset:
          source: synthetic
          image_size: 12
          synthetic: {alphabets: 6, characters: 8, drawers: 12}
        task: {classes: 3, instances: 4}
        model:
          kind: mann
          hidden: 16
          memory: {slots: 8, width: 4, read_heads: 2, persistent: true}
        training: {optimizer: adam, lr: 1e-3, batch_size: 8, episodes: 400, seed: 5}
        evaluation: {every: 100, episodes: 24, instances: [1, 2, 4]}
        checkpoint: {every: 100}
        """;

    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "previous-format");

    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void A_checkpoint_in_the_previous_format_resumes_where_it_stopped()
    {
        var run = TrainingFolder.Spec(Spec);
        var (sink, folder) = _folder.Sink(run, "resumed");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(Fixture, "checkpoint.bin"), sink.CheckpointFile);
        // The id the checkpoint was written for: the test is about the tensors, not about run ids.
        var runId = CheckpointHeader.Read(sink.CheckpointFile).RunId;

        var result = new Trainer(run.Spec, runId, sink.CheckpointFile, sink).Run();

        result.Outcome.Should().Be(Outcome.Completed);
        var expected = TrainingFolder.Metrics(Fixture).Where(m => m.Item1 > 200).ToList();
        expected.Max(m => m.Item1).Should().Be(400);
        TrainingFolder.Metrics(folder).Where(m => m.Item1 > 200).Should().Equal(expected, "the previous build's numbers, to the last bit");
    }
}
