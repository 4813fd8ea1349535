using MannLab.Runs;
using MannLab.Testing;
using MannLab.Training;

namespace MannLab.Models.Tests;

/// <summary>
/// Training survives garbage collections at any moment, with no region that holds the collector
/// off: another thread collects all the time while every kind of model trains (with both
/// optimisers, gradient clipping, persistent memory, evaluation, checkpoints and the kNN
/// baseline). TorchSharp 0.107 frees a Scalar it made implicitly in the finalizer, even while
/// libtorch still reads it; with one such Scalar left in the loop, this crashes within a few
/// hundred iterations ("Expected false to be true" or "INTERNAL ASSERT FAILED at Scalar.h"). Every
/// number we hand to torch is therefore a rooted one (see <see cref="Scalars"/>).
/// </summary>
public class CollectionsDuringTrainingTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Each model, and how many episodes it trains: a kNN's step is cheap, and its one torch call with a number (masked_fill) is short, so it runs ten times as long to be hit.</summary>
    public static TheoryData<string, int> Models => new()
    {
        { "{kind: feedforward, hidden: 32}", 2400 },
        { "{kind: lstm, hidden: 32}", 2400 },
        { "{kind: mann, hidden: 32, memory: {slots: 16, width: 8, read_heads: 2}}", 2400 },
        { "{kind: mann, hidden: 32, memory: {slots: 16, width: 8, read_heads: 2, persistent: true}, lrua: {least_used: per-head, key_strength: learned, write: add-vector}}", 2400 },
        { "{kind: mann, controller: feedforward, hidden: 32, memory: {slots: 16, width: 8, read_heads: 2}}", 2400 },
        { "{kind: mann, access: ntm, hidden: 32, memory: {slots: 16, width: 8, read_heads: 2}}", 2400 },
        // With an implicit Scalar in masked_fill this crashed within 24,000 episodes (14 s), not within 2,400.
        { "{kind: knn, features: autoencoder, autoencoder: {hidden: 32, code: 8}}", 24000 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Training_survives_collections_during_every_torch_call(string model, int episodes)
    {
        foreach (var optimizer in new[] { "{optimizer: adam, lr: 1e-3", "{optimizer: rmsprop, lr: 1e-4, grad_clip: 10" })
        {
            var run = TrainingFolder.Spec(SmallSpec.Yaml("collections", model, $"{optimizer}, batch_size: 8, episodes: {episodes}, seed: 5}}",
                "{every: 800, episodes: 24, instances: [1, 2, 4]}", "{every: 800}"));
            var (sink, _) = _folder.Sink(run, $"{run.Id}");
            using var collecting = new CancellationTokenSource();
            var collections = 0;
            var collector = new Thread(() =>
            {
                while (!collecting.IsCancellationRequested)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    collections++;
                }
            });
            collector.Start();
            TrainingResult result;
            try
            {
                result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();
            }
            finally
            {
                collecting.Cancel();
                collector.Join();
            }

            result.Outcome.Should().Be(Outcome.Completed, result.Reason);
            collections.Should().BeGreaterThan(100, "collections ran all through training");
        }
    }
}
