using MannLab.Spec;

namespace MannLab.Cli;

/// <summary>Loading spec files for the commands, with errors printed compiler-style.</summary>
public static class SpecFiles
{
    /// <summary>The spec files among <paramref name="paths"/> (folders searched recursively); when there are none, says so and returns null.</summary>
    public static IReadOnlyList<string>? Discover(IReadOnlyCollection<string> paths, TextWriter errors)
    {
        var files = Experiments.discover(paths);
        if (!files.IsEmpty) return files;
        errors.WriteLine("error: no spec files (*.yaml, *.yml) found in " + string.Join(", ", paths));
        return null;
    }

    /// <summary>Loads one spec; on failure prints every error to stderr and returns null.</summary>
    public static ExperimentFile? LoadOrReport(string file, TextWriter errors)
    {
        var result = Experiments.load(file);
        if (result.IsOk) return result.ResultValue;
        foreach (var error in result.ErrorValue) errors.WriteLine(error.ToString());
        return null;
    }

    public static string Describe(Model model) => model switch
    {
        Model.FeedForward f => $"feedforward {f.hidden}",
        Model.Lstm l => $"lstm {l.hidden}",
        Model.Mann { mann: var m } => $"mann ({(m.Controller.IsLstmController ? "lstm" : "feedforward")} {m.Hidden}, " +
            $"{m.Memory.Slots}x{m.Memory.Width}, {m.Memory.ReadHeads} heads, " +
            (m.Access is Access.Lrua lrua
                ? $"lrua gamma {lrua.lrua.Gamma}" + (lrua.lrua.LearnedKeyStrength ? ", key strength" : "") + (lrua.lrua.AddVector ? ", add vector" : "")
                : "ntm") + ")",
        _ => throw new ArgumentOutOfRangeException(nameof(model)),
    };

    public static string Describe(Spec.Task task) =>
        $"{task.Classes}-way, " +
        (task.Shape is EpisodeShape.InstancesPerClass k ? $"{k.instances} per class" : $"length {((EpisodeShape.Length)task.Shape).steps}") +
        (task.Labels.IsOneHot ? ", one-hot" : ", string labels");
}
