using System.CommandLine;
using MannLab.Spec;

namespace MannLab.Cli;

/// <summary><c>mannlab validate FILE|DIR...</c>: checks specs; exit 0 when all are valid, 1 otherwise.</summary>
public static class ValidateCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Spec files, or folders searched recursively for *.yaml and *.yml",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("validate", "Check experiment specs and report every problem as path:line:col: error: message");
        command.Arguments.Add(paths);
        command.SetAction(parse => Run(parse.GetValue(paths)!, Console.Out, Console.Error));
        return command;
    }

    public static int Run(IReadOnlyCollection<string> paths, TextWriter output, TextWriter errors)
    {
        if (SpecFiles.Discover(paths, errors) is not { } files) return 1;
        int invalid = 0, runs = 0;
        foreach (var file in files)
        {
            var experiment = SpecFiles.LoadOrReport(file, errors);
            if (experiment is null) { invalid++; continue; }
            runs += experiment.Runs.Length;
            output.WriteLine($"{file}: ok ({experiment.Runs.Length} run{(experiment.Runs.Length == 1 ? "" : "s")})");
        }
        output.WriteLine(invalid == 0
            ? $"{files.Count} file{(files.Count == 1 ? "" : "s")} valid, {runs} run{(runs == 1 ? "" : "s")}"
            : $"{invalid} of {files.Count} file{(files.Count == 1 ? "" : "s")} invalid");
        return invalid == 0 ? 0 : 1;
    }
}
