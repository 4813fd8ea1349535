using System.CommandLine;
using MannLab.Spec;

namespace MannLab.Cli;

/// <summary><c>mannlab plan FILE|DIR...</c>: the runs specs expand to, as a table per file.</summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Spec files, or folders searched recursively", Arity = ArgumentArity.OneOrMore };
        var command = new Command("plan", "Show the runs experiment specs expand to (one per sweep point) with their stable ids");
        command.Arguments.Add(paths);
        command.SetAction(parse =>
        {
            if (SpecFiles.Discover(parse.GetValue(paths)!, Console.Error) is not { } files) return 1;
            // Every file is planned (and every error shown); the exit code says whether all were valid.
            return files.Select(f => Run(f, Console.Out, Console.Error)).ToList().Max();
        });
        return command;
    }

    public static int Run(string file, TextWriter output, TextWriter errors)
    {
        var experiment = SpecFiles.LoadOrReport(file, errors);
        if (experiment is null) return 1;
        var first = experiment.Runs.Head;
        var axes = first.Point.Select(p => p.Path).ToList();
        var header = new List<string> { "#", "run" };
        header.AddRange(axes);
        header.AddRange(Schema.planColumns.Select(c => c.Heading));
        var rows = experiment.Runs.Select(run =>
        {
            var row = new List<string> { run.Index.ToString(), run.Id };
            row.AddRange(run.Point.Select(p => p.Written));
            row.AddRange(Schema.planColumns.Select(c => c.Show.Invoke(run.Spec)));
            return (IReadOnlyList<string>)row;
        });
        output.WriteLine($"{experiment.File}: {first.Spec.Name}, {experiment.Runs.Length} run{(experiment.Runs.Length == 1 ? "" : "s")}");
        TextTable.Write(output, header, rows);
        return 0;
    }
}
