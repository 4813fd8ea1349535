using System.CommandLine;

namespace MannLab.Cli;

/// <summary><c>mannlab plan FILE</c>: the runs a spec expands to, as a table.</summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An experiment spec" };
        var command = new Command("plan", "Show the runs an experiment spec expands to (one per sweep point) with their stable ids");
        command.Arguments.Add(file);
        command.SetAction(parse => Run(parse.GetValue(file)!, Console.Out, Console.Error));
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
        header.AddRange(["architecture", "task", "episodes", "seed"]);
        var rows = experiment.Runs.Select(run =>
        {
            var row = new List<string> { run.Index.ToString(), run.Id };
            row.AddRange(run.Point.Select(p => p.Written));
            row.AddRange([SpecFiles.Describe(run.Spec.Model), SpecFiles.Describe(run.Spec.Task),
                run.Spec.Training.Episodes.ToString(), run.Spec.Training.Seed.ToString()]);
            return (IReadOnlyList<string>)row;
        });
        output.WriteLine($"{experiment.File}: {first.Spec.Name}, {experiment.Runs.Length} run{(experiment.Runs.Length == 1 ? "" : "s")}");
        TextTable.Write(output, header, rows);
        return 0;
    }
}
