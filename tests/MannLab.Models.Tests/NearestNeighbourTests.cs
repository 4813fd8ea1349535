using MannLab.Data;
using MannLab.Runs;
using MannLab.Spec;
using MannLab.Training;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>Table 2's kNN baselines as a model: the rule on hand-made episodes, and both kinds trained and scored by the trainer.</summary>
public class NearestNeighbourTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>One episode of 2-pixel images with the given labels, as the sampler lays it out (y_{t-1} beside x_t).</summary>
    private static EpisodeTensors Episode(LabelCodec codec, float[] images, int[] labels)
    {
        var batch = new EpisodeBatch(1, labels.Length, labels.Distinct().Count(), 2, codec.VectorWidth, codec.TargetWidth, 0);
        images.CopyTo(batch.Images, 0);
        for (var t = 0; t < labels.Length; t++)
        {
            if (t > 0) codec.WriteVector(labels[t - 1], batch.PreviousLabels.AsSpan(t * codec.VectorWidth, codec.VectorWidth));
            codec.WriteTargets(labels[t], batch.Targets.AsSpan(t * codec.TargetWidth, codec.TargetWidth));
        }
        return EpisodeTensors.From(batch, CPU);
    }

    private static bool[] Correct(LabelCodec codec, float[] images, int[] labels)
    {
        using var scope = NewDisposeScope();
        using var model = new NearestNeighbourModel(KnnFeatures.RawPixels, 2);
        var episode = Episode(codec, images, labels);
        return Scoring.Correct(model.forward(episode.Input), episode.Targets, codec);
    }

    // Four steps: A, B, A', C, where A' is nearest to A and C nearest to B.
    private static readonly float[] Images = [1, 0, 0, 1, 0.9f, 0.1f, 0.2f, 0.8f];

    [Fact]
    public void Each_image_takes_the_label_of_its_nearest_earlier_image()
    {
        // Step 0 has nothing before it: its zeros guess label 0, which is wrong here.
        Correct(new LabelCodec(LabelEncoding.OneHot, 3), Images, [1, 0, 1, 2]).Should().Equal(false, false, true, false);
    }

    [Fact]
    public void A_string_label_is_copied_whole_from_the_nearest_image()
    {
        // Codes 7 and 3000 differ in several characters; A' gets all five of A's right, C none of B's.
        Correct(new LabelCodec(LabelEncoding.StringLabels, 3), Images, [7, 3000, 7, 1234]).Should().Equal(false, false, true, false);
    }

    [Fact]
    public void Its_guess_never_reads_the_current_steps_own_label()
    {
        // A repeated image at step 1 would be right if the rule looked at step 1's label (carried by step 2's input).
        Correct(new LabelCodec(LabelEncoding.OneHot, 3), [1, 0, 1, 0, 0, 1], [1, 2, 2]).Should().Equal(false, false, false);
    }

    [Fact]
    public void Between_equally_near_images_the_earliest_wins()
    {
        Correct(new LabelCodec(LabelEncoding.OneHot, 3), [1, 0, 1, 0, 1, 0], [1, 2, 1]).Should().Equal(false, false, true);
        Correct(new LabelCodec(LabelEncoding.OneHot, 3), [1, 0, 1, 0, 1, 0], [1, 2, 2]).Should().Equal(false, false, false);
    }

    /// <summary>The trainer tests' small task (TrainingFolder.SmallMann) with a kNN for its model.</summary>
    private static readonly string SmallKnn = TrainingFolder.SmallMann.Replace("""
        model:
          kind: mann
          hidden: 32
          memory: {slots: 16, width: 8, read_heads: 2}
        """, "model: {kind: knn}");

    [Fact]
    public void On_raw_pixels_a_run_trains_nothing_and_scores_exactly_what_every_run_scores_as_its_knn_split()
    {
        var run = TrainingFolder.Spec(SmallKnn);
        run.Spec.Model.Learns.Should().BeFalse();
        var (sink, folder) = _folder.Sink(run, "raw");
        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();

        result.Outcome.Should().Be(Outcome.Completed);
        result.Episodes.Should().Be(0, "there is nothing to train");
        File.Exists(sink.CheckpointFile).Should().BeFalse();
        TrainingFolder.Metrics(folder).Should().NotContain(m => m.Item2.StartsWith("train_"));
        var rows = File.ReadLines(Path.Combine(folder, "instances.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        string[] Split(string split) => [.. rows.Where(r => r[1] == split).Select(r => string.Join(",", r.Where((_, i) => i != 1)))];
        Split("test").Should().HaveCount(4).And.Equal(Split("knn"));
        // What every other run records as its knn split: the baseline scored on the same held-out episodes.
        var (_, heldOut, _) = Datasets.Prepare(run.Spec).Samplers(run.Spec);
        using var baseline = new NearestNeighbourModel(KnnFeatures.RawPixels, heldOut.ImagePixels);
        var (_, tally) = MannLab.Training.Evaluation.Run(baseline, heldOut, heldOut.Codec, CPU, run.Spec.Evaluation.Episodes, run.Spec.Training.BatchSize, 4);
        result.FinalEvaluation.Should().Equal(tally.Rows(0, "test", run.Spec.Task.Classes, Enumerable.Range(1, 4)));
        run.Spec.Model.Should().Be(Model.NewKnn(KnnFeatures.RawPixels), "the small task's spec, with a kNN for its model");
        result.FinalEvaluation.Single(r => r.Instance == 2).Accuracy.Should().BeGreaterThan(0.5, "synthetic glyphs of one character are near each other");
    }

    [Fact]
    public void On_deep_features_the_autoencoder_learns_to_reconstruct_the_images_and_the_rule_reads_its_code()
    {
        var run = TrainingFolder.Spec(SmallKnn.Replace("model: {kind: knn}", "model: {kind: knn, features: autoencoder, autoencoder: {hidden: 64, code: 16}}"));
        run.Spec.Model.Should().Be(Model.NewKnn(KnnFeatures.NewAutoencoder(new AutoencoderFeatures(64, 16))));
        var (sink, folder) = _folder.Sink(run, "deep");
        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();

        result.Outcome.Should().Be(Outcome.Completed);
        result.Episodes.Should().Be(400);
        var losses = TrainingFolder.Metrics(folder).Where(m => m.Item2 == "eval_loss").Select(m => m.Item3).ToList();
        losses.Should().HaveCount(4);
        losses[^1].Should().BeLessThan(losses[0] * 0.9, "held-out reconstruction improves as the autoencoder trains");
        // Chance at the 2nd sight is 1/3: the code keeps what tells characters apart.
        result.FinalEvaluation.Single(r => r.Instance == 2).Accuracy.Should().BeGreaterThan(0.5);
    }
}
