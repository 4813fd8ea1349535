using MannLab.Spec;

namespace MannLab.Data.Tests;

/// <summary>The sampler's invariants, on synthetic glyphs (fast, and with known classes).</summary>
public class EpisodeSamplerTests
{
    private static readonly GlyphSet Set = GlyphGenerator.Generate(Tasks.SmallGlyphs, 20);
    private static readonly IReadOnlyList<ClassRef> Classes = DataSplit.Classes([.. Enumerable.Range(0, 30)], rotationClasses: true);

    private static EpisodeSampler Sampler(Spec.Task? task = null, Augmentation? augment = null, long seed = 3) =>
        new(Set, Classes, task ?? Tasks.OneHot(), augment, seed, stream: 1);

    /// <summary>For each step of episode b: which (character, rotation) it shows, recovered from the image itself.</summary>
    private static ClassRef[] ClassesShown(EpisodeBatch batch, int b)
    {
        var turned = new float[400];
        return [.. Enumerable.Range(0, batch.Steps).Select(t =>
        {
            var image = batch.Images.AsSpan((b * batch.Steps + t) * 400, 400);
            foreach (var cls in Classes)
                for (var d = 0; d < Set.Characters[cls.Character].Drawings; d++)
                {
                    ImageOps.RotateQuarters(Set.Image(cls.Character, d), 20, cls.Rotation, turned);
                    if (image.SequenceEqual(turned)) return cls;
                }
            throw new InvalidOperationException($"step {t} shows no known image");
        })];
    }

    [Fact]
    public void Each_class_appears_K_times_and_instance_indices_count_its_appearances()
    {
        var batch = Sampler().Batch(0, 4);
        batch.Steps.Should().Be(50);
        for (var b = 0; b < 4; b++)
        {
            var shown = ClassesShown(batch, b);
            shown.GroupBy(c => c).Should().HaveCount(5).And.AllSatisfy(g => g.Should().HaveCount(10));
            for (var t = 0; t < 50; t++)
            {
                batch.Instances[b * 50 + t].Should().Be(shown[..(t + 1)].Count(c => c == shown[t]));
                // One class, one label, within an episode.
                var label = batch.Labels[b * 50 + t];
                Enumerable.Range(0, 50).Where(u => shown[u] == shown[t]).Should().AllSatisfy(u => batch.Labels[b * 50 + u].Should().Be(label));
            }
        }
    }

    [Fact]
    public void Labels_are_a_fresh_permutation_each_episode()
    {
        var batch = Sampler(Tasks.OneHot(classes: 5, instances: 2)).Batch(0, 200);
        var labellings = new HashSet<string>();
        for (var b = 0; b < 200; b++)
        {
            var labels = batch.Labels.Skip(b * 10).Take(10).ToArray();
            labels.Distinct().Order().Should().Equal(0, 1, 2, 3, 4);
            // The order in which labels first appear: a fresh permutation would rarely repeat.
            labellings.Add(string.Join(",", labels.Distinct()));
        }
        labellings.Count.Should().BeGreaterThan(60);
    }

    [Fact]
    public void No_class_keeps_its_label_across_episodes()
    {
        // The label a given character gets, over many episodes that show it, is spread over all labels.
        var sampler = new EpisodeSampler(Set, DataSplit.Classes([0, 1, 2, 3, 4], false), Tasks.OneHot(5, 2), null, 1, 1);
        var batch = sampler.Batch(0, 100);
        var labelsOfFirstCharacter = new HashSet<int>();
        for (var b = 0; b < 100; b++)
        {
            var shown = ClassesShownAmong(batch, b, [0, 1, 2, 3, 4]);
            labelsOfFirstCharacter.Add(batch.Labels[b * 10 + Array.IndexOf(shown, 0)]);
        }
        labelsOfFirstCharacter.Should().BeEquivalentTo([0, 1, 2, 3, 4]);
    }

    private static int[] ClassesShownAmong(EpisodeBatch batch, int b, int[] characters) =>
        [.. Enumerable.Range(0, batch.Steps).Select(t =>
            characters.Single(c => Enumerable.Range(0, Set.Characters[c].Drawings)
                .Any(d => batch.Images.AsSpan((b * batch.Steps + t) * 400, 400).SequenceEqual(Set.Image(c, d)))))];

    [Fact]
    public void The_previous_label_is_shifted_by_one_step_and_zero_at_the_start()
    {
        var batch = Sampler().Batch(0, 3);
        for (var b = 0; b < 3; b++)
        {
            batch.PreviousLabels.AsSpan(b * 50 * 5, 5).ToArray().Should().AllSatisfy(v => v.Should().Be(0));
            for (var t = 1; t < 50; t++)
            {
                var vector = batch.PreviousLabels.AsSpan((b * 50 + t) * 5, 5).ToArray();
                var expected = new float[5];
                expected[batch.Labels[b * 50 + t - 1]] = 1;
                vector.Should().Equal(expected);
                batch.Targets[b * 50 + t].Should().Be(batch.Labels[b * 50 + t]);
            }
        }
    }

    [Fact]
    public void String_labels_are_distinct_within_an_episode_and_encoded_as_five_one_hots()
    {
        var sampler = Sampler(Tasks.Strings(classes: 15, length: 100));
        var batch = sampler.Batch(0, 8);
        (batch.LabelWidth, batch.TargetWidth, batch.Steps).Should().Be((25, 5, 100));
        for (var b = 0; b < 8; b++)
        {
            var shown = ClassesShown(batch, b);
            var codeOfClass = shown.Zip(batch.Labels.Skip(b * 100).Take(100)).Distinct().ToList();
            codeOfClass.Select(p => p.First).Should().OnlyHaveUniqueItems("one code per class");
            codeOfClass.Select(p => p.Second).Should().OnlyHaveUniqueItems("the strings are distinct within an episode");
            for (var t = 1; t < 100; t++)
            {
                var code = batch.Labels[b * 100 + t - 1];
                var vector = batch.PreviousLabels.AsSpan((b * 100 + t) * 25, 25).ToArray();
                vector.Sum().Should().Be(5);
                for (var i = 0; i < 5; i++)
                {
                    vector[i * 5 + LabelCodec.Symbol(code, i)].Should().Be(1);
                    batch.Targets[(b * 100 + t - 1) * 5 + i].Should().Be(LabelCodec.Symbol(code, i));
                }
            }
        }
    }

    [Fact]
    public void String_codes_read_as_five_symbols()
    {
        LabelCodec.Text(0).Should().Be("aaaaa");
        LabelCodec.Text(3124).Should().Be("eeeee");
        LabelCodec.Text(1 * 625 + 2 * 125 + 3 * 25 + 4 * 5 + 0).Should().Be("bcdea");
    }

    [Fact]
    public void Episode_lengths_draw_each_step_from_the_episode_classes()
    {
        var batch = Sampler(new Spec.Task(5, EpisodeShape.NewLength(30), LabelEncoding.OneHot, null, TaskKind.Classification)).Batch(0, 2);
        batch.Steps.Should().Be(30);
        var shown = ClassesShown(batch, 0);
        shown.Distinct().Count().Should().BeLessThanOrEqualTo(5);
        batch.Instances.Take(30).Max().Should().Be(shown.GroupBy(c => c).Max(g => g.Count()));
    }

    [Fact]
    public void A_curriculum_grows_the_classes_and_the_length_follows_them()
    {
        // 3 classes at first, one more every 8 episodes, up to 5; 4 steps per class.
        var task = new Spec.Task(5, EpisodeShape.NewLengthPerClass(4), LabelEncoding.OneHot, new Curriculum(3, 1, 8), TaskKind.Classification);
        var sampler = Sampler(task);
        foreach (var (first, classes) in new[] { (0L, 3), (4L, 3), (8L, 4), (16L, 5), (40L, 5) })
        {
            var batch = sampler.Batch(first, 4);
            batch.Classes.Should().Be(classes, $"the batch at episode {first}");
            batch.Steps.Should().Be(4 * classes);
            for (var b = 0; b < 4; b++)
            {
                ClassesShown(batch, b).Distinct().Count().Should().BeLessThanOrEqualTo(classes);
                var labels = batch.Labels.Skip(b * batch.Steps).Take(batch.Steps).ToArray();
                // One-hot labels over the task's 5 classes: the input keeps its width, fewer of its labels are used.
                labels.Distinct().Count().Should().BeLessThanOrEqualTo(classes);
                labels.Should().AllSatisfy(l => l.Should().BeInRange(0, 4));
                batch.PreviousLabels.Length.Should().Be(4 * batch.Steps * 5);
            }
        }
        // A resumed run regenerates its batches: episode e's batch depends on e alone.
        sampler.Batch(16, 4).Images.Should().Equal(Sampler(task).Batch(16, 4).Images);
    }

    [Fact]
    public void An_evaluation_at_another_class_count_poses_episodes_of_that_many_classes_with_the_tasks_shape()
    {
        var sampler = Sampler(new Spec.Task(3, EpisodeShape.NewInstancesPerClass(2), LabelEncoding.StringLabels, null, TaskKind.Classification)).WithClasses(12);
        var batch = sampler.Batch(0, 3);
        (batch.Classes, batch.Steps).Should().Be((12, 24));
        for (var b = 0; b < 3; b++)
        {
            ClassesShown(batch, b).GroupBy(c => c).Should().HaveCount(12).And.AllSatisfy(g => g.Should().HaveCount(2));
            batch.Labels.Skip(b * 24).Take(24).Distinct().Should().HaveCount(12, "string labels name each of the 12 classes apart");
        }
        batch.PreviousLabels.Length.Should().Be(3 * 24 * 25);
        var act = () => Sampler().WithClasses(Classes.Count + 1);
        act.Should().Throw<DataException>().WithMessage($"*needs {Classes.Count + 1} classes*only {Classes.Count}*");
    }

    [Fact]
    public void The_sampler_is_deterministic_and_episodes_do_not_depend_on_batching()
    {
        var a = Sampler().Batch(0, 4);
        var b = Sampler().Batch(0, 4);
        b.Images.Should().Equal(a.Images);
        b.Targets.Should().Equal(a.Targets);

        var third = Sampler().Batch(2, 1);
        third.Images.Should().Equal(a.Images.Skip(2 * 50 * 400).Take(50 * 400));
        third.Instances.Should().Equal(a.Instances.Skip(100).Take(50));

        Sampler(seed: 4).Batch(0, 4).Images.Should().NotEqual(a.Images);
    }

    [Fact]
    public void Augmentation_jitters_images_deterministically()
    {
        var augment = new Augmentation(1.0, 5.0);
        var plain = Sampler().Batch(0, 2);
        var jittered = Sampler(augment: augment).Batch(0, 2);
        jittered.Images.Should().NotEqual(plain.Images);
        jittered.Labels.Should().Equal(plain.Labels, "jitter draws after the episode's structure is fixed... per step");
        Sampler(augment: augment).Batch(0, 2).Images.Should().Equal(jittered.Images);
    }

    [Fact]
    public void Train_and_test_classes_are_disjoint()
    {
        var split = DataSplit.Make(Set, ClassSplit.NewPaper(25), seed: 5);
        split.TrainCharacters.Intersect(split.TestCharacters).Should().BeEmpty();
        split.TrainCharacters.Concat(split.TestCharacters).Order().Should().Equal(Enumerable.Range(0, 40));
        DataSplit.Make(Set, ClassSplit.NewPaper(25), seed: 5).TrainCharacters.Should().Equal(split.TrainCharacters);
        DataSplit.Make(Set, ClassSplit.NewPaper(25), seed: 6).TrainCharacters.Should().NotEqual(split.TrainCharacters);

        var byAlphabet = DataSplit.Make(Set, ClassSplit.BackgroundEvaluation, seed: 0);
        byAlphabet.TrainCharacters.Select(c => Set.Characters[c].Alphabet)
            .Intersect(byAlphabet.TestCharacters.Select(c => Set.Characters[c].Alphabet)).Should().BeEmpty();
    }

    [Fact]
    public void The_stream_yields_the_samplers_batches_in_order()
    {
        var sampler = Sampler();
        using var stream = new EpisodeStream(sampler, batchSize: 4, firstEpisode: 8);
        for (var i = 0; i < 5; i++)
        {
            var batch = stream.Next();
            batch.FirstEpisode.Should().Be(8 + 4 * i);
            batch.Images.Should().Equal(sampler.Batch(8 + 4 * i, 4).Images);
        }
    }
}
