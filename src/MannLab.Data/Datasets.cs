using MannLab.Spec;
using Microsoft.FSharp.Core;

namespace MannLab.Data;

/// <summary>What a spec's dataset section resolves to: the images, the split, and each side's classes.</summary>
public sealed record PreparedData(GlyphSet Set, DataSplit Split, IReadOnlyList<ClassRef> TrainClasses, IReadOnlyList<ClassRef> TestClasses)
{
    /// <summary>
    /// The training sampler (augmented, seeded by the training seed) and the evaluation sampler
    /// (no jitter, seeded by the split seed, so runs that differ only in their training seed or
    /// model are evaluated on the very same episodes), on disjoint classes. Training follows the
    /// task's curriculum, if it has one; evaluation poses the task's classes, where the curriculum
    /// leads, and <c>ByClasses</c> each other count of evaluation.classes on the same episodes. All
    /// are made here, so a split with too few classes for any of them fails before training, not after.
    /// </summary>
    public (EpisodeSampler Train, EpisodeSampler Test, IReadOnlyList<EpisodeSampler> ByClasses) Samplers(Spec.Spec spec)
    {
        var test = new EpisodeSampler(Set, TestClasses, spec.Task, augment: null, spec.Dataset.SplitSeed, stream: 2).WithClasses(spec.Task.Classes);
        return (new EpisodeSampler(Set, TrainClasses, spec.Task, spec.Dataset.Augment, spec.Training.Seed, stream: 1), test,
            [.. spec.Evaluation.Classes.Where(c => c != spec.Task.Classes).Select(test.WithClasses)]);
    }
}

/// <summary>Where Omniglot is looked for, and what said so.</summary>
public enum OmniglotOrigin { Spec, Environment, Fetched, Shared }

/// <summary>Loads datasets named by specs, through the preprocessed-array cache.</summary>
public static class Datasets
{
    /// <summary>Bumped whenever preprocessing changes, so older caches are seen as stale.</summary>
    private const string PreprocessingVersion = "ink1-area-f32-v1";

    public static PreparedData Prepare(Spec.Spec spec, Action<string>? log = null)
    {
        var set = Load(spec.Dataset, log);
        var split = DataSplit.Make(set, spec.Dataset.Split, spec.Dataset.SplitSeed);
        return new PreparedData(set, split,
            DataSplit.Classes(split.TrainCharacters, spec.Dataset.RotationClasses),
            DataSplit.Classes(split.TestCharacters, spec.Dataset.RotationClasses));
    }

    public static GlyphSet Load(Dataset dataset, Action<string>? log = null) => dataset.Source switch
    {
        DatasetSource.Synthetic s => GlyphGenerator.Generate(s.glyphs, dataset.ImageSize),
        DatasetSource.Omniglot o => LoadOmniglot(LocateOmniglot(o.path).Path, dataset.ImageSize, log),
        _ => throw new ArgumentOutOfRangeException(nameof(dataset)),
    };

    /// <summary>Where `mannlab data fetch omniglot` puts the archives: data/omniglot under MannLab's folder.</summary>
    public static string FetchedOmniglot => Path.Combine(MannLabHome.Path, "data", "omniglot");

    /// <summary>
    /// The spec's path; else $MANNLAB_OMNIGLOT; else data/omniglot under MannLab's folder (where
    /// `mannlab data fetch omniglot` puts it); else ../shared/omniglot beside MannLab's folder, if
    /// it exists. Read from this process's environment and file system.
    /// </summary>
    public static (string Path, OmniglotOrigin Origin) LocateOmniglot(FSharpOption<string>? specPath = null)
    {
        if (FSharpOption<string>.get_IsSome(specPath)) return (specPath!.Value, OmniglotOrigin.Spec);
        if (Environment.GetEnvironmentVariable("MANNLAB_OMNIGLOT") is { Length: > 0 } env) return (env, OmniglotOrigin.Environment);
        var fetched = FetchedOmniglot;
        if (Directory.Exists(fetched)) return (fetched, OmniglotOrigin.Fetched);
        var shared = Path.GetFullPath(Path.Combine(MannLabHome.Path, "..", "shared", "omniglot"));
        return Directory.Exists(shared) ? (shared, OmniglotOrigin.Shared) : (fetched, OmniglotOrigin.Fetched);
    }

    /// <summary>The cache file of a source and image size, and the key its content must carry.</summary>
    public static (string File, string Key) CacheOf(IReadOnlyList<OmniglotPart> parts, int imageSize, string? cacheFolder = null)
    {
        var where = string.Join("|", parts.Select(p => p.Path));
        var name = $"omniglot-{Spec.Canonical.sha256(where)[..12]}-{imageSize}px.bin";
        var key = $"{OmniglotReader.ContentHash(parts)}|{imageSize}|{PreprocessingVersion}";
        return (Path.Combine(cacheFolder ?? GlyphCache.Folder, name), key);
    }

    /// <summary>Loads Omniglot from the cache when it is valid; otherwise reads the source and rewrites the cache.</summary>
    public static GlyphSet LoadOmniglot(string path, int imageSize, Action<string>? log = null, string? cacheFolder = null)
    {
        var parts = OmniglotReader.Locate(path);
        var (file, key) = CacheOf(parts, imageSize, cacheFolder);
        var (cached, state) = GlyphCache.TryLoad(file, key);
        if (cached is not null) return cached;
        log?.Invoke(state switch
        {
            GlyphCache.State.Stale => $"cache {file} is stale (the source or preprocessing changed); rebuilding",
            GlyphCache.State.Corrupt => $"cache {file} is corrupt; rebuilding",
            _ => $"preprocessing Omniglot from {path} (once; cached in {file})",
        });
        var set = OmniglotReader.Read(parts, imageSize, Path.GetFullPath(path));
        GlyphCache.Save(file, key, set);
        return set;
    }
}
