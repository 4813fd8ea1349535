using System.CommandLine;
using MannLab.Drawing;
using MannLab.Jobs;
using MannLab.Runs;
using MannLab.Storage;
using MannLab.Training;

namespace MannLab.Cli;

/// <summary>
/// <c>mannlab compare [--experiment X | RUN...]</c>: final held-out accuracy at each sight, one row
/// per run, with the paper's numbers beside runs whose setting is one of the paper's.
/// <c>mannlab plot (curves|instances|classes|regression|bands|memory) RUN... --out FILE</c>: the same charts as the pages, as files.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run ids or unique prefixes", Arity = ArgumentArity.ZeroOrMore };
        var experiment = new Option<string?>("--experiment") { Description = "Every run of this experiment" };
        var db = JobCommandSupport.DbOption();
        var command = new Command("compare", "Per-instance accuracy of runs side by side, with the paper's numbers where the setting is the paper's");
        command.Arguments.Add(runs);
        command.Options.Add(experiment);
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            var selected = Resolve(jobs, parse.GetValue(runs)!, parse.GetValue(experiment));
            if (selected is null) return 1;
            var rows = new List<(string Label, Series Final)>();
            foreach (var run in selected)
                if (jobs.Queries.FinalInstancesAsync(run.Id, run.Id).GetAwaiter().GetResult() is { } final) rows.Add(($"{run.Id} {run.Name} {run.Model} {RunsCommand.Point(run)}", final));
            if (rows.Count == 0)
            {
                Console.WriteLine("none of these runs has been evaluated yet");
                return 0;
            }
            var instances = rows.SelectMany(r => r.Final.X).Distinct().Order().Select(x => (int)x).ToList();
            rows.AddRange(jobs.Queries.PaperResultsAsync([.. selected.Select(r => r.Id)]).GetAwaiter().GetResult()
                .Select(paper => ($"paper: {paper.Name}", paper)));
            var table = rows.Select(r => (IReadOnlyList<string>)[r.Label, .. instances.Select(k => Percent(r.Final, k))]).ToList();
            TextTable.Write(Console.Out, ["run", .. instances.Select(RunFormat.Ordinal)], table);
            WriteByClasses(jobs.Queries, selected);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// For the runs evaluated at several class counts (evaluation.classes): a row per run and class
    /// count, a column per sight, the count the run trained for marked.
    /// </summary>
    private static void WriteByClasses(RunQueries queries, IReadOnlyList<StoredRun> runs)
    {
        var byRun = runs.Select(r => (Run: r, Result: queries.AccuracyByClassesAsync(r.Id).GetAwaiter().GetResult()))
            .Where(r => r.Result.BySight.Count > 0).Select(r => (r.Run, Curves: r.Result.BySight, r.Result.TaskClasses)).ToList();
        if (byRun.Count == 0) return;
        var sights = byRun.SelectMany(r => r.Curves.Select(c => c.Name)).Distinct().ToList();
        var table = byRun.SelectMany(r => r.Curves[0].X.Select(classes => (IReadOnlyList<string>)
        [
            r.Run.Id, ((int)classes).ToString(System.Globalization.CultureInfo.InvariantCulture) + (r.TaskClasses == (int)classes ? " (trained for)" : ""),
            .. sights.Select(s => r.Curves.SingleOrDefault(c => c.Name == s) is { } curve ? Percent(curve, (int)classes) : ""),
        ])).ToList();
        Console.WriteLine();
        Console.WriteLine("held-out accuracy against classes, after training:");
        TextTable.Write(Console.Out, ["run", "classes", .. sights], table);
    }

    private static string Percent(Series final, int instance)
    {
        var i = final.X.ToList().IndexOf(instance);
        return i < 0 ? "" : RunFormat.Percent(final.Y[i]) ?? "";
    }

    /// <summary>The runs named by ids (or prefixes) or by experiment; prints the problem and returns null if any is unknown.</summary>
    public static IReadOnlyList<StoredRun>? Resolve(JobSystem jobs, IReadOnlyList<string> given, string? experiment)
    {
        if (given.Count == 0 == (experiment is null))
        {
            Console.Error.WriteLine("error: name runs, or give --experiment (not both)");
            return null;
        }
        if (experiment is not null)
        {
            var runs = jobs.Queries.ListAsync(experiment).GetAwaiter().GetResult();
            if (runs.Count == 0) Console.Error.WriteLine($"error: no runs of experiment '{experiment}'");
            return runs.Count == 0 ? null : runs;
        }
        if (JobCommandSupport.ResolveIds(jobs, given) is not { } ids) return null;
        var found = jobs.Queries.ListAsync(ids: ids).GetAwaiter().GetResult();
        return [.. ids.Select(i => found.Single(r => r.Id == i))];
    }

    public static Command CreatePlot()
    {
        var command = new Command("plot", "Export the pages' charts as PNG or SVG files, at print size");
        command.Subcommands.Add(PlotCommand("curves", "Held-out accuracy against episodes: by sight for one run, at --instance for several"));
        command.Subcommands.Add(PlotCommand("instances", "Final held-out accuracy by sight, one line per run"));
        command.Subcommands.Add(PlotCommand("classes", "Final held-out accuracy against classes (evaluation.classes): by sight for one run, at --instance for several"));
        command.Subcommands.Add(PlotCommand("regression", "A regression's final held-out NLL against points seen: the model's and the GP posterior's, for each run"));
        command.Subcommands.Add(PlotCommand("bands", "A 1-D regression run's predictions on a held-out function with 2-sd bands, beside the GP posterior's, at --seen points"));
        command.Subcommands.Add(PlotCommand("memory", "Read, write and usage weights of a MANN run's latest checkpoint on a held-out episode (PNG)"));
        return command;
    }

    private static Command PlotCommand(string kind, string description)
    {
        var runs = new Argument<string[]>("runs") { Description = "Run ids or unique prefixes", Arity = ArgumentArity.ZeroOrMore };
        var experiment = new Option<string?>("--experiment") { Description = "Every run of this experiment" };
        var output = new Option<string>("--out") { Description = "The file to write: .png or .svg", Required = true };
        var instance = new Option<int>("--instance") { Description = "curves of several runs: which sight", DefaultValueFactory = _ => 2 };
        var seen = new Option<int>("--seen") { Description = "bands: after how many points of the function (2, 5 or 10)", DefaultValueFactory = _ => 5 };
        var width = new Option<int>("--width") { Description = "Pixels (PNG) or points (SVG)", DefaultValueFactory = _ => 1200 };
        var height = new Option<int>("--height") { DefaultValueFactory = _ => 700 };
        var against = new Option<string>("--against")
        {
            Description = "curves: the x axis, episodes or minutes (wall clock the run had trained at each evaluation)",
            DefaultValueFactory = _ => "episodes",
        };
        against.AcceptOnlyFromAmong("episodes", "minutes");
        var db = JobCommandSupport.DbOption();
        var command = new Command(kind, description);
        command.Arguments.Add(runs);
        foreach (var option in new Option[] { experiment, output, instance, width, height, db }) command.Options.Add(option);
        if (kind == "curves") command.Options.Add(against);
        if (kind == "bands") command.Options.Add(seen);
        command.SetAction(parse =>
        {
            var file = parse.GetValue(output)!;
            var extension = Path.GetExtension(file).ToLowerInvariant();
            if (extension is not (".png" or ".svg") || kind == "memory" && extension != ".png")
            {
                Console.Error.WriteLine($"error: --out {file}: expected {(kind == "memory" ? "a .png" : "a .png or .svg")} file");
                return 1;
            }
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            var selected = Resolve(jobs, parse.GetValue(runs)!, parse.GetValue(experiment));
            if (selected is null) return 1;
            if (kind == "memory") return Memory(jobs.Queries, selected, file);
            if (kind == "bands") return Bands(jobs.Queries, selected, parse.GetValue(seen), file, parse.GetValue(width), parse.GetValue(height));
            var minutes = kind == "curves" && parse.GetValue(against) == "minutes";
            var plot = kind switch
            {
                "curves" => Curves(jobs.Queries, selected, parse.GetValue(instance), minutes),
                "classes" => Classes(jobs.Queries, selected, parse.GetValue(instance)),
                "regression" => Regression(jobs.Queries, selected),
                _ => Instances(jobs.Queries, selected),
            };
            if (plot is null)
            {
                Console.Error.WriteLine("error: nothing to plot: the runs have no held-out evaluation yet" +
                    (kind == "classes" ? " at more than their task's classes (evaluation.classes), after training" : "") +
                    (kind == "regression" ? " of a regression (task.kind: regression)" : "") +
                    (minutes ? $" with its {Trainer.TrainingMinutes} (runs trained before MannLab recorded it have none)" : ""));
                return 1;
            }
            Charts.Save(plot, file, parse.GetValue(width), parse.GetValue(height));
            Console.WriteLine($"wrote {file}");
            return 0;
        });
        return command;
    }

    private static ScottPlot.Plot? Curves(RunQueries queries, IReadOnlyList<StoredRun> runs, int instance, bool minutes)
    {
        var x = minutes ? "minutes trained" : "episodes";
        // Against minutes, each evaluation's step maps to the wall clock the run had trained by then; runs from before it was recorded have none.
        IReadOnlyList<Series> CurvesOf(StoredRun run)
        {
            var curves = queries.InstanceCurvesAsync(run.Id).GetAwaiter().GetResult();
            if (!minutes) return curves;
            var clock = queries.MetricCurvesAsync(run.Id, Trainer.TrainingMinutes).GetAwaiter().GetResult().SingleOrDefault();
            return clock is null ? [] : [.. curves.Select(c => Against(c, clock))];
        }
        if (runs.Count == 1)
        {
            var curves = CurvesOf(runs[0]);
            return curves.Count == 0 ? null : Charts.Lines($"{Label(runs[0])}: held-out accuracy by sight", x, "accuracy", curves, (0, 1));
        }
        var lines = runs.Select(r => CurvesOf(r).FirstOrDefault(c => c.Name == RunFormat.Ordinal(instance)) is { } c
            ? c with { Name = Label(r) } : null).OfType<Series>().ToList();
        return lines.Count == 0 ? null : Charts.Lines($"Held-out accuracy at the {RunFormat.Ordinal(instance)} sight", x, "accuracy", lines, (0, 1));
    }

    /// <summary>A run in a chart's legend or title: what a reader knows it by first (its experiment and sweep point), then its id.</summary>
    private static string Label(StoredRun run) => $"{run.Name} {run.PointLabel}".TrimEnd() + $" ({run.Id})";

    /// <summary>A curve against episodes redrawn against <paramref name="clock"/> (minutes by episode), at the episodes both have.</summary>
    private static Series Against(Series curve, Series clock)
    {
        var minutesAt = clock.X.Zip(clock.Y).ToDictionary(p => p.First, p => p.Second);
        var points = curve.X.Zip(curve.Y).Where(p => minutesAt.ContainsKey(p.First)).ToList();
        return curve with { X = [.. points.Select(p => minutesAt[p.First])], Y = [.. points.Select(p => p.Second)] };
    }

    private static ScottPlot.Plot? Classes(RunQueries queries, IReadOnlyList<StoredRun> runs, int instance)
    {
        var curves = runs.Select(r => (Run: r, Curves: queries.AccuracyByClassesAsync(r.Id).GetAwaiter().GetResult().BySight)).ToList();
        if (runs.Count == 1)
            return curves[0].Curves.Count == 0 ? null
                : Charts.Lines($"{Label(runs[0])}: final held-out accuracy against classes, by sight", "classes", "accuracy", curves[0].Curves, (0, 1));
        var lines = curves.Select(r => r.Curves.FirstOrDefault(c => c.Name == RunFormat.Ordinal(instance)) is { } c ? c with { Name = Label(r.Run) } : null)
            .OfType<Series>().ToList();
        return lines.Count == 0 ? null : Charts.Lines($"Final held-out accuracy against classes at the {RunFormat.Ordinal(instance)} sight", "classes", "accuracy", lines, (0, 1));
    }

    private static ScottPlot.Plot? Instances(RunQueries queries, IReadOnlyList<StoredRun> runs)
    {
        var finals = runs.Select(r => queries.FinalInstancesAsync(r.Id, Label(r)).GetAwaiter().GetResult()).OfType<Series>().ToList();
        return finals.Count == 0 ? null : Charts.Lines("Final held-out accuracy by sight", "instance", "accuracy", finals, (0, 1));
    }

    /// <summary>One run: its model and the GP; several: each run's model, and the GP of each task once (runs of one task share their held-out functions).</summary>
    private static ScottPlot.Plot? Regression(RunQueries queries, IReadOnlyList<StoredRun> runs)
    {
        var scored = runs.Select(r => (Run: r, Steps: queries.RegressionStepsAsync(r.Id).GetAwaiter().GetResult(),
            Task: queries.SpecJsonAsync(r.Id).GetAwaiter().GetResult())).Where(r => r.Steps.Count > 0).ToList();
        if (scored.Count == 0) return null;
        if (scored.Count == 1)
            return Charts.Lines($"{Label(scored[0].Run)}: final held-out NLL against points seen", "points seen", "negative log-likelihood", scored[0].Steps);
        var tasks = scored.Select(r => Spec.Schema.describeTask(Spec.Experiments.specOfJson(r.Task).ResultValue.Task)).ToList();
        var lines = scored.Select(r => r.Steps.Single(s => s.Name == "model") with { Name = Label(r.Run) })
            .Concat(scored.Select((r, i) => (Gp: r.Steps.Single(s => s.Name != "model"), Task: tasks[i])).DistinctBy(g => g.Task)
                .Select(g => g.Gp with { Name = tasks.Distinct().Count() > 1 ? $"GP posterior ({g.Task})" : "GP posterior" }))
            .ToList();
        return Charts.Lines("Final held-out NLL against points seen", "points seen", "negative log-likelihood", lines);
    }

    private static int Bands(RunQueries queries, IReadOnlyList<StoredRun> runs, int seen, string file, int width, int height)
    {
        if (runs is not [var run])
        {
            Console.Error.WriteLine("error: plot bands draws one run");
            return 1;
        }
        var all = queries.LatestBandsAsync(run.Id).GetAwaiter().GetResult();
        if (all.Count == 0)
        {
            Console.Error.WriteLine($"error: run {run.Id} has no bands: they are drawn at the checkpoints of a 1-D regression (task.kind: regression, dimensions: 1)");
            return 1;
        }
        if (all.FirstOrDefault(b => b.Seen == seen) is not { } bands)
        {
            Console.Error.WriteLine($"error: --seen {seen}: run {run.Id} has bands after {string.Join(", ", all.Select(b => b.Seen))} points");
            return 1;
        }
        Charts.Save(Charts.Bands($"{Label(run)}: held-out function after {seen} points (checkpoint of episode {bands.Episode})", bands, run.Model),
            file, width, height);
        Console.WriteLine($"wrote {file}");
        return 0;
    }

    private static int Memory(RunQueries queries, IReadOnlyList<StoredRun> runs, string file)
    {
        if (runs is not [var run])
        {
            Console.Error.WriteLine("error: plot memory draws one run");
            return 1;
        }
        var bytes = queries.CheckpointBytesAsync(run.Id).GetAwaiter().GetResult();
        if (bytes is null)
        {
            Console.Error.WriteLine($"error: run {run.Id} has no checkpoint yet");
            return 1;
        }
        var checkpoint = Path.Combine(Path.GetTempPath(), $"mannlab-{run.Id}-{Environment.ProcessId}.bin");
        File.WriteAllBytes(checkpoint, bytes);
        try
        {
            return InspectCommand.Run(checkpoint, file, 0);
        }
        finally
        {
            File.Delete(checkpoint);
        }
    }
}
