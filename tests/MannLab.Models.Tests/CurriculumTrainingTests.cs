using MannLab.Runs;
using MannLab.Training;

namespace MannLab.Models.Tests;

/// <summary>A curriculum trained for real, and the trained model evaluated at other class counts (evaluation.classes).</summary>
public class CurriculumTrainingTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static readonly string Yaml = TrainingFolder.SmallMann
        .Replace("task: {classes: 3, instances: 4}", TrainingFolder.SmallCurriculum.Replace("{classes: 4,", "{classes: 4, labels: string,"))
        .Replace("instances: [1, 2, 4]}", "instances: [1, 2, 4], classes: [2, 4, 12]}");

    [Fact]
    public void Training_follows_the_schedule_and_the_trained_model_is_scored_at_each_class_count()
    {
        var run = TrainingFolder.Spec(Yaml);
        var (sink, folder) = _folder.Sink(run, "curriculum");
        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();
        result.Outcome.Should().Be(Outcome.Completed);

        var rows = File.ReadLines(Path.Combine(folder, "instances.csv")).Skip(1).Select(l => l.Split(','))
            .Select(p => (Episode: long.Parse(p[0]), Split: p[1], Instance: int.Parse(p[2]), Total: long.Parse(p[4]), Classes: int.Parse(p[6]))).ToList();
        // Training windows: the batch of 8 that starts at episode e has the classes of e (2, 3 from 150, 4 from 300),
        // and a window closes where they change, so each window's rows carry one count.
        foreach (var window in rows.Where(r => r.Split == "train").GroupBy(r => r.Episode))
        {
            window.Select(r => r.Classes).Distinct().Should().ContainSingle();
            var lastBatch = window.Key - 8;
            window.First().Classes.Should().Be(run.Spec.Task.ClassesAt(lastBatch), $"the window that ends at episode {window.Key}");
        }
        rows.Where(r => r.Split == "train").Select(r => r.Classes).Distinct().Should().Equal(2, 3, 4);
        TrainingFolder.Metrics(folder).Where(m => m.Item2 == Metric.CurriculumClasses).Select(m => m.Item3).Distinct().Should().Equal(2, 3, 4);

        // Held-out evaluations are at the task's classes, where the curriculum leads; after training,
        // the model is scored at 2 and 12 classes too (4 is the task's own, not evaluated twice).
        rows.Where(r => r.Split == "test" && r.Episode < 400).Should().OnlyContain(r => r.Classes == 4);
        var final = rows.Where(r => r.Split == "test" && r.Episode == 400).ToList();
        final.Select(r => r.Classes).Distinct().Should().Equal(4, 2, 12);
        // Steps draw their class uniformly, so a class may go unseen: at most each class's first sight in each of 24 episodes.
        final.Where(r => r.Instance == 1).Should().OnlyContain(r => r.Total > 0 && r.Total <= 24L * r.Classes);
        result.FinalEvaluation.Select(r => (r.Classes, r.Instance)).Should().Equal((4, 1), (4, 2), (4, 3), (4, 4), (2, 1), (2, 2), (2, 3), (2, 4),
            (12, 1), (12, 2), (12, 3), (12, 4));
        FolderSink.FinalTable(result.FinalEvaluation).Split('\n').Should().Contain(l => l.TrimStart().StartsWith("12 ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_class_count_the_held_out_side_cannot_pose_fails_the_run_before_any_training()
    {
        // String labels name up to 3,125 classes, but the held-out side of 48 synthetic characters has far fewer than 3,000: the run fails at its start, not after training.
        var run = TrainingFolder.Spec(Yaml.Replace("classes: [2, 4, 12]}", "classes: [2, 3000]}"));
        var (sink, folder) = _folder.Sink(run, "too-many");
        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();

        result.Outcome.Should().Be(Outcome.Failed);
        result.Reason.Should().Contain("an episode needs 3000 classes but this side of the split has only");
        File.Exists(Path.Combine(folder, "metrics.csv")).Should().BeFalse("no training step ran");
        File.Exists(sink.CheckpointFile).Should().BeFalse();
    }

    [Fact]
    public void String_labels_at_100_classes_keep_the_output_layer_at_five_softmaxes_of_five()
    {
        var run = TrainingFolder.Spec(TrainingFolder.SmallMann.Replace("task: {classes: 3, instances: 4}", "task: {classes: 3, instances: 4, labels: string}")
            .Replace("instances: [1, 2, 4]}", "instances: [1, 2, 4], classes: [100]}").Replace("alphabets: 6", "alphabets: 40"));
        var data = MannLab.Data.Datasets.Prepare(run.Spec);
        var (train, _, byClasses) = data.Samplers(run.Spec);
        using var model = ModelFactory.Create(run.Spec.Model, train.ImagePixels, train.Codec);
        var batch = byClasses.Single().Batch(0, 2);
        (batch.Classes, batch.Steps).Should().Be((100, 400));
        batch.Labels.Take(400).Distinct().Should().HaveCount(100, "3,125 strings name 100 classes apart");
        using var scope = TorchSharp.torch.NewDisposeScope();
        var tensors = EpisodeTensors.From(batch, TorchSharp.torch.CPU);
        var logits = model.forward(tensors.Input);
        logits.shape.Should().Equal(2, 400, 25);
        var loss = model.Loss(tensors.Input, logits, tensors.Targets, train.Codec).item<float>();
        // Untrained, each of the five characters is a guess among five: ln 5 per character, averaged.
        loss.Should().BeApproximately((float)Math.Log(5), 0.2f);
        Scoring.Correct(logits, tensors.Targets, train.Codec).Should().HaveCount(800);
    }
}
