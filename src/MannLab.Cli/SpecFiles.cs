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

    /// <summary>A model in a few words (the spec's own summary, which <c>plan</c> shows too).</summary>
    public static string Describe(Model model) => Schema.describeModel(model);

    public static string Describe(Spec.Task task) => Schema.describeTask(task);
}
