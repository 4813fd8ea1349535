using System.CommandLine;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary><c>mannlab runs [--experiment X] [--status S] [--worker W]</c>: the runs in the database, with progress, per-instance accuracies and who trains them.</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var experiment = new Option<string?>("--experiment") { Description = "Only this experiment (its spec's name)" };
        var status = new Option<string?>("--status") { Description = "Only runs in this status: " + string.Join(", ", RunStatus.All) };
        status.AcceptOnlyFromAmong([.. RunStatus.All]);
        var worker = new Option<string?>("--worker") { Description = "Only runs whose latest attempt this worker made (its name, or the start of it: a machine, or machine:pid)" };
        var db = JobCommandSupport.DbOption();
        var command = new Command("runs", "List runs with their status, progress and latest held-out accuracy at each sight");
        command.Options.Add(experiment);
        command.Options.Add(status);
        command.Options.Add(worker);
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            var runs = jobs.Queries.ListAsync(parse.GetValue(experiment), parse.GetValue(status)).GetAwaiter().GetResult();
            if (parse.GetValue(worker) is { } w) runs = [.. runs.Where(r => r.Worker is { } name && (name == w || name.StartsWith(w + ":", StringComparison.Ordinal)))];
            if (runs.Count == 0)
            {
                Console.WriteLine("no runs" + (parse.GetValue(experiment) is { } x ? $" of experiment '{x}'" : "") +
                                  (parse.GetValue(status) is { } s ? $" with status {s}" : "") +
                                  (parse.GetValue(worker) is { } by ? $" trained by worker {by}" : "") + "; queue some with `mannlab submit FILE` or `mannlab up`");
                return 0;
            }
            Write(Console.Out, runs);
            return 0;
        });
        return command;
    }

    public static void Write(TextWriter output, IReadOnlyList<StoredRun> runs)
    {
        var sights = runs.SelectMany(r => r.EvaluatedSights).Distinct().Order().Take(6).ToList();
        TextTable.Write(output, ["run", "experiment", "point", "model", "status", "progress", .. sights.Select(RunFormat.Ordinal), "attempts", "worker"],
            runs.Select(r => (IReadOnlyList<string>)[r.Id, r.Name, Point(r), r.Model, r.Status, Progress(r),
                .. sights.Select(k => RunFormat.Percent(r.EvalAccuracy(k)) ?? "-"), r.Attempt.ToString(), r.Worker ?? "-"]));
        foreach (var failed in runs.Where(r => r.Status == RunStatus.Failed && r.Error is not null))
            output.WriteLine($"run {failed.Id} failed: {failed.Error!.Split('\n')[0]}");
        foreach (var waiting in runs.Where(r => r.Status == RunStatus.Waiting).GroupBy(r => r.WaitReason ?? "waiting for its data"))
            output.WriteLine((waiting.Count() == 1 ? "run " : "runs ") + string.Join(", ", waiting.Select(r => $"{r.Id} ({r.Name})")) +
                             (waiting.Count() == 1 ? " is " : " are ") + waiting.Key);
    }

    public static string Progress(StoredRun r) => $"{r.EpisodesDone}/{r.EpisodesTotal} {100 * r.Done:F0}%";

    /// <summary>The swept values, cut to fit a terminal table.</summary>
    public static string Point(StoredRun run) => run.PointLabel.Length <= 56 ? run.PointLabel : run.PointLabel[..53] + "...";
}
