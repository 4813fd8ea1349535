using MannLab.Spec;

namespace MannLab.Data;

/// <summary>
/// A run's dataset that is not there yet, with the command or setting that supplies it. Whether it
/// is there is this process's to say (its environment, its file system): a worker asks before it
/// starts a training process, which inherits both.
/// </summary>
/// <param name="Fetchable">`mannlab data fetch omniglot` (or `up` itself) puts it where it is looked for.</param>
public sealed record MissingData(string Path, string Reason, string Remedy, bool Fetchable)
{
    /// <summary>The reason and the remedy, as a run's record and the terminal show them.</summary>
    public override string ToString() => $"{Reason}; {Remedy}";

    /// <summary>What is missing of <paramref name="dataset"/>, or null when it is there (synthetic data always is).</summary>
    public static MissingData? Of(Dataset dataset)
    {
        if (dataset.Source is not DatasetSource.Omniglot omniglot) return null;
        var (path, origin) = Datasets.LocateOmniglot(omniglot.path);
        if (OmniglotReader.Absence(path) is not { } absence) return null;
        const string what = "images_background and images_evaluation (folders or their .zip archives)";
        return origin switch
        {
            OmniglotOrigin.Spec => new(path, $"waiting for Omniglot at the spec's dataset.path ({absence})",
                $"put {what} at {path}", Fetchable: false),
            OmniglotOrigin.Environment => new(path, $"waiting for Omniglot at MANNLAB_OMNIGLOT ({absence})",
                $"put {what} there (`./mannlab data fetch omniglot --dest {path}`), or restart `up`/`worker` with MANNLAB_OMNIGLOT set to where they are",
                Fetchable: false),
            _ => new(path, $"waiting for Omniglot ({absence})",
                "run `./mannlab data fetch omniglot`, or restart `up`/`worker` with MANNLAB_OMNIGLOT=/path/to/omniglot (a folder holding its archives)",
                Fetchable: true),
        };
    }
}
