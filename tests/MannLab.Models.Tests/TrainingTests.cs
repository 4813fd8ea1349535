using System.Text.Json;
using MannLab.Runs;
using MannLab.Training;
using TorchSharp;

namespace MannLab.Models.Tests;

/// <summary>Resumption, flat memory, divergence, and checkpoints: the trainer on real data, real files, real tensors.</summary>
public class TrainingTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the memory carried from batch to batch is part of the checkpoint
    public void Interrupting_at_200_and_resuming_to_400_reproduces_an_uninterrupted_run_bit_for_bit(bool persistentMemory)
    {
        var yaml = persistentMemory ? TrainingFolder.SmallMann.Replace("read_heads: 2}", "read_heads: 2, persistent: true}") : TrainingFolder.SmallMann;
        var run = TrainingFolder.Spec(yaml);
        run.Spec.Model.Should().BeOfType<Spec.Model.Mann>().Which.mann.Memory.Persistent.Should().Be(persistentMemory);

        var (straightSink, straight) = _folder.Sink(run, "straight");
        var whole = new Trainer(run.Spec, run.Id, straightSink.CheckpointFile, straightSink).Run();
        whole.Outcome.Should().Be(Outcome.Completed);

        var (resumedSink, resumed) = _folder.Sink(run, "resumed");
        using var stop = new CancellationTokenSource();
        var first = new Trainer(run.Spec, run.Id, resumedSink.CheckpointFile, resumedSink)
        {
            AfterIteration = iteration => { if (iteration == 25) stop.Cancel(); }, // 25 batches of 8: episode 200
        }.Run(stop.Token);
        first.Outcome.Should().Be(Outcome.Interrupted);
        first.Episodes.Should().Be(200);
        CheckpointHeader.Read(resumedSink.CheckpointFile).Episode.Should().Be(200);
        var second = new Trainer(run.Spec, run.Id, resumedSink.CheckpointFile, resumedSink).Run();
        second.Outcome.Should().Be(Outcome.Completed);

        var expected = TrainingFolder.Metrics(straight);
        expected.Select(m => m.Item2).Should().Contain(["eval_acc_2", "train_loss"]);
        expected.Max(m => m.Item1).Should().Be(400);
        TrainingFolder.Metrics(resumed).Should().Equal(expected, "every metric, to the last bit, with none duplicated");
        File.ReadAllLines(Path.Combine(resumed, "instances.csv")).Should().Equal(File.ReadAllLines(Path.Combine(straight, "instances.csv")));
        second.FinalEvaluation.Should().Equal(whole.FinalEvaluation);
        // The kNN baseline is scored once, at the end, on the same evaluation episodes.
        File.ReadLines(Path.Combine(straight, "instances.csv")).Count(l => l.Contains(",knn,")).Should().Be(4);
    }

    [Fact]
    public void A_diverging_loss_fails_the_run_with_a_clear_reason()
    {
        var run = TrainingFolder.Spec(TrainingFolder.SmallMann.Replace("lr: 1e-3", "lr: 1e37").Replace("seed: 5", "seed: 5, grad_clip: null"));
        var (sink, folder) = _folder.Sink(run, "diverged");

        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();

        result.Outcome.Should().Be(Outcome.Failed);
        result.Reason.Should().MatchRegex(@"^the training loss became (NaN|∞|-∞|Infinity) at episode \d+");
        File.ReadAllText(Path.Combine(folder, "run.json")).Should().Contain("\"status\": \"failed\"").And.Contain("the training loss became");
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("cpu")]
    public void The_run_records_the_device_training_used(string device)
    {
        var run = TrainingFolder.Spec(TrainingFolder.SmallMann.Replace("episodes: 400", $"episodes: 16, device: {device}"));
        var (sink, folder) = _folder.Sink(run, "device");

        new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run().Outcome.Should().Be(Outcome.Completed);

        // auto trains on CUDA when torch finds it, else on the CPU; the record follows training, not the spec.
        var used = device == "auto" && torch.cuda.is_available() ? "cuda" : "cpu";
        using var record = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "run.json")));
        record.RootElement.GetProperty("environment").GetProperty("Device").GetString().Should().Be(used);
    }

    [Fact]
    public void A_checkpoint_of_another_run_is_refused()
    {
        var run = TrainingFolder.Spec(TrainingFolder.SmallMann.Replace("episodes: 400", "episodes: 16"));
        var (sink, _) = _folder.Sink(run, "one");
        new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run().Outcome.Should().Be(Outcome.Completed);

        var other = TrainingFolder.Spec(TrainingFolder.SmallMann.Replace("episodes: 400", "episodes: 32"));
        var act = () => new Trainer(other.Spec, other.Id, sink.CheckpointFile, sink).Run();

        act.Should().Throw<InvalidOperationException>().WithMessage($"*belongs to run {run.Id}, not {other.Id}*");
    }
}
