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
    [InlineData("wiped memory")]
    [InlineData("persistent memory")] // the memory carried from batch to batch is part of the checkpoint
    [InlineData("cosine schedule")] // the learning rate depends on the episode alone, so it resumes where it was
    [InlineData("curriculum")] // the classes depend on the episode alone, and a window closes where they change
    [InlineData("regression")] // a function of the GP prior per episode, drawn from (seed, episode) alone
    public void Interrupting_at_200_and_resuming_to_400_reproduces_an_uninterrupted_run_bit_for_bit(string variant)
    {
        var yaml = variant switch
        {
            "persistent memory" => TrainingFolder.SmallMann.Replace("read_heads: 2}", "read_heads: 2, persistent: true}"),
            "cosine schedule" => TrainingFolder.SmallMann.Replace("lr: 1e-3,", "lr: 1e-3, schedule: cosine, warmup: 120,"),
            "curriculum" => TrainingFolder.SmallMann.Replace("task: {classes: 3, instances: 4}", TrainingFolder.SmallCurriculum),
            "regression" => TrainingFolder.SmallMann[..TrainingFolder.SmallMann.IndexOf("dataset:", StringComparison.Ordinal)]
                            + "task: {kind: regression, regression: {dimensions: 2, points: 6}}\n"
                            + TrainingFolder.SmallMann[TrainingFolder.SmallMann.IndexOf("model:", StringComparison.Ordinal)..].Replace(", instances: [1, 2, 4]", ""),
            _ => TrainingFolder.SmallMann,
        };
        var run = TrainingFolder.Spec(yaml);
        run.Spec.Model.Should().BeOfType<Spec.Model.Mann>().Which.mann.Memory.Persistent.Should().Be(variant == "persistent memory");
        run.Spec.Training.Warmup.Should().Be(variant == "cosine schedule" ? 120 : 0);

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
        var interruptedAt = CheckpointHeader.Read(resumedSink.CheckpointFile);
        interruptedAt.Episode.Should().Be(200);
        var second = new Trainer(run.Spec, run.Id, resumedSink.CheckpointFile, resumedSink).Run();
        second.Outcome.Should().Be(Outcome.Completed);

        var expected = TrainingFolder.Metrics(straight);
        expected.Select(m => m.Item2).Should().Contain([variant == "regression" ? "eval_nll_step_6" : "eval_acc_2", "train_loss"]);
        expected.Max(m => m.Item1).Should().Be(400);
        TrainingFolder.Metrics(resumed).Should().Equal(expected, "every metric, to the last bit, with none duplicated");
        File.ReadAllLines(Path.Combine(resumed, "instances.csv")).Should().Equal(File.ReadAllLines(Path.Combine(straight, "instances.csv")));
        second.FinalEvaluation.Should().Equal(whole.FinalEvaluation);
        // The minutes trained go on from the checkpoint's: the resumed run's clock does not start again at 0.
        var minutes = MinutesTrained(resumed);
        minutes.Select(m => m.Episode).Should().Equal([104L, 200, 304, 400], "one per evaluation: the batch of 8 that crosses each 100");
        minutes.Select(m => m.Minutes).Should().BeInAscendingOrder().And.OnlyContain(m => m > 0);
        minutes[2].Minutes.Should().BeGreaterThan(interruptedAt.TrainedSeconds / 60, "the second attempt adds its time to the first's");
        CheckpointHeader.Read(resumedSink.CheckpointFile).TrainedSeconds.Should().BeGreaterThanOrEqualTo(minutes[^1].Minutes * 60);
        // The kNN baseline is scored once, at the end, on the same evaluation episodes.
        File.ReadLines(Path.Combine(straight, "instances.csv")).Count(l => l.Contains(",knn,")).Should().Be(variant == "regression" ? 0 : 4);
    }

    [Fact]
    public void The_optimiser_step_takes_the_learning_rate_it_is_given()
    {
        var run = TrainingFolder.Spec(TrainingFolder.SmallMann);
        var (train, _, _) = MannLab.Data.Datasets.Prepare(run.Spec).Samplers(run.Spec);
        using var model = ModelFactory.Create(run.Spec.Model, train.ImagePixels, train.Codec);
        var parameters = model.parameters().ToArray();
        var before = parameters.Select(p => p.detach().clone()).ToArray();
        using var optimizer = Optimizers.Create(run.Spec.Training.Optimizer, parameters);
        var step = new TrainingStep(model, optimizer, parameters, (i, o, t) => model.Loss(i, o, t, train.Codec), 10);
        var tensors = EpisodeTensors.From(train.Batch(0, 8), torch.CPU);

        step.Run(tensors.Input, tensors.Targets, 2.5e-4).Stepped.Should().BeTrue();

        // Adam's first step moves each weight by lr * g / (|g| + eps): by the rate itself wherever
        // the gradient is not tiny, and by no more anywhere. The spec's own rate is 1e-3.
        var moves = parameters.Zip(before, (p, b) => (p.detach() - b).abs().max().item<float>()).ToArray();
        moves.Max().Should().BeApproximately(2.5e-4f, 1e-7f);
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

    /// <summary>The training_minutes metric of a run folder, by episode.</summary>
    private static List<(long Episode, double Minutes)> MinutesTrained(string folder) =>
        [.. File.ReadLines(Path.Combine(folder, "metrics.csv")).Select(l => l.Split(','))
            .Where(p => p[1] == Trainer.TrainingMinutes)
            .Select(p => (long.Parse(p[0]), double.Parse(p[2], System.Globalization.CultureInfo.InvariantCulture)))];
}
