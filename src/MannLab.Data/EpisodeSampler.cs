using MannLab.Spec;

namespace MannLab.Data;

/// <summary>
/// Samples episodes (Santoro et al. 2016, section 4.1): N classes, each shown K times (or an
/// episode of L steps, each step's class drawn uniformly), in shuffled order, with labels assigned
/// by a fresh random permutation every episode so no class keeps a label across episodes.
/// Episode e's randomness comes from (seed, stream, e) alone: any episode can be regenerated,
/// which is what makes a resumed run continue exactly. With a curriculum, a batch's episodes have
/// the classes the curriculum gives its first episode (Task.ClassesAt), and a length to match.
/// </summary>
public sealed class EpisodeSampler
{
    private readonly GlyphSet _set;
    private readonly IReadOnlyList<ClassRef> _classes;
    private readonly Spec.Task _task;
    private readonly Augmentation? _augment;
    private readonly long _seed;
    private readonly int _stream;
    /// <summary>Every episode's classes, whatever the curriculum says; null to follow it.</summary>
    private readonly int? _fixedClasses;

    /// <param name="augment">Per-sample jitter, or null for none (evaluation episodes).</param>
    /// <param name="stream">Separates the training stream from the evaluation stream of the same seed.</param>
    public EpisodeSampler(GlyphSet set, IReadOnlyList<ClassRef> classes, Spec.Task task, Augmentation? augment, long seed, int stream)
        : this(set, classes, task, augment, seed, stream, null) { }

    private EpisodeSampler(GlyphSet set, IReadOnlyList<ClassRef> classes, Spec.Task task, Augmentation? augment, long seed, int stream, int? fixedClasses)
    {
        var most = fixedClasses ?? task.Classes;
        if (classes.Count < most)
            throw new DataException($"{set.Source}: an episode needs {most} classes but this side of the split has only {classes.Count}");
        if (task.Shape is EpisodeShape.InstancesPerClass { instances: var k })
            foreach (var c in classes.Select(c => c.Character).Distinct())
                if (set.Characters[c] is { Drawings: var d } character && d < k)
                    throw new DataException($"{character.Subset}/{character.Alphabet}/{character.Name}: has {d} drawings, " +
                                            $"but an episode needs {k} instances of a class");
        _set = set;
        _classes = classes;
        _task = task;
        _augment = augment is { Translate: 0, Rotate: 0 } ? null : augment;
        _seed = seed;
        _stream = stream;
        _fixedClasses = fixedClasses;
        Codec = new LabelCodec(task.Labels, task.Classes);
    }

    /// <summary>
    /// The same episodes' source (classes, seed, stream, jitter, labels) posing episodes of
    /// <paramref name="classes"/> classes throughout, with the task's shape: an evaluation at another class count.
    /// </summary>
    public EpisodeSampler WithClasses(int classes) => new(_set, _classes, _task, _augment, _seed, _stream, classes);

    public LabelCodec Codec { get; }
    /// <summary>The classes of the batch that starts at episode <paramref name="firstEpisode"/>.</summary>
    public int ClassesAt(long firstEpisode) => _fixedClasses ?? _task.ClassesAt(firstEpisode);
    public int ImagePixels => _set.ImageSize * _set.ImageSize;
    public IReadOnlyList<ClassRef> Classes => _classes;

    /// <summary>Episodes firstEpisode .. firstEpisode + batchSize - 1.</summary>
    public EpisodeBatch Batch(long firstEpisode, int batchSize)
    {
        var classes = ClassesAt(firstEpisode);
        var batch = new EpisodeBatch(batchSize, _task.LengthFor(classes), classes, ImagePixels, Codec.VectorWidth, Codec.TargetWidth, firstEpisode);
        for (var b = 0; b < batchSize; b++) Fill(firstEpisode + b, batch, b);
        return batch;
    }

    private void Fill(long episode, EpisodeBatch batch, int b)
    {
        var rng = DetRandom.For(_seed, _stream, episode);
        int n = batch.Classes, steps = batch.Steps, size = _set.ImageSize, pixels = ImagePixels;
        var chosen = rng.Distinct(_classes.Count, n).Select(i => _classes[i]).ToArray();
        var labels = Codec.Draw(ref rng, n);

        // Which of the episode's classes each step shows.
        int[] order;
        if (_task.Shape is EpisodeShape.InstancesPerClass { instances: var k })
        {
            order = new int[n * k];
            for (var i = 0; i < order.Length; i++) order[i] = i / k;
            rng.Shuffle(order.AsSpan());
        }
        else
        {
            order = new int[steps];
            for (var i = 0; i < steps; i++) order[i] = rng.Next(n);
        }

        // Each class's drawings in random order; a class shown more often than it has drawings
        // (possible only with episode lengths) cycles through them again.
        var drawings = chosen.Select(c => rng.Distinct(_set.Characters[c.Character].Drawings, _set.Characters[c.Character].Drawings)).ToArray();
        var seen = new int[n];
        for (var t = 0; t < steps; t++)
        {
            var slot = order[t];
            var cls = chosen[slot];
            var instance = ++seen[slot];
            var drawing = drawings[slot][(instance - 1) % drawings[slot].Length];
            var at = b * steps + t;
            var image = batch.Images.AsSpan(at * pixels, pixels);
            var source = _set.Image(cls.Character, drawing);
            if (_augment is { } aug)
            {
                var radians = cls.Rotation * Math.PI / 2 + rng.Symmetric(aug.Rotate) * Math.PI / 180;
                ImageOps.Affine(source, size, radians, rng.Symmetric(aug.Translate), rng.Symmetric(aug.Translate), image);
            }
            else
            {
                ImageOps.RotateQuarters(source, size, cls.Rotation, image);
            }
            batch.Labels[at] = labels[slot];
            batch.Instances[at] = instance;
            Codec.WriteTargets(labels[slot], batch.Targets.AsSpan(at * Codec.TargetWidth, Codec.TargetWidth));
            if (t + 1 < steps)
                Codec.WriteVector(labels[slot], batch.PreviousLabels.AsSpan((at + 1) * Codec.VectorWidth, Codec.VectorWidth));
        }
    }
}
