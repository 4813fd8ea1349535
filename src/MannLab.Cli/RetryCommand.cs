using System.CommandLine;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary>
/// <c>mannlab retry RUN...|--failed [--experiment NAME]</c>: queues failed, cancelled or
/// interrupted runs again; each resumes from its last checkpoint as a new attempt.
/// </summary>
public static class RetryCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run ids, or unique prefixes of them (see `mannlab runs`)", Arity = ArgumentArity.ZeroOrMore };
        var failed = new Option<bool>("--failed") { Description = "Every failed run (of --experiment, when given)" };
        var experiment = new Option<string?>("--experiment") { Description = "With --failed: only this experiment's failed runs (its spec's name)" };
        var db = JobCommandSupport.DbOption();
        var command = new Command("retry", "Queue failed, cancelled or interrupted runs again: each resumes from its last checkpoint as a new attempt");
        command.Arguments.Add(runs);
        command.Options.Add(failed);
        command.Options.Add(experiment);
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            var (given, all, name) = (parse.GetValue(runs)!, parse.GetValue(failed), parse.GetValue(experiment));
            if (Misuse(given, all, name) is { } problem)
            {
                Console.Error.WriteLine("error: " + problem);
                return 1;
            }
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            IReadOnlyList<StoredRun> targets;
            if (all)
            {
                targets = jobs.Queries.ListAsync(name, RunStatus.Failed).GetAwaiter().GetResult();
                if (targets.Count == 0) Console.WriteLine("no failed runs" + (name is null ? "" : $" of experiment '{name}'") + ": nothing to retry");
            }
            else
            {
                if (JobCommandSupport.ResolveIds(jobs, given) is not { } ids) return 1;
                targets = jobs.Queries.ListAsync(ids: ids).GetAwaiter().GetResult();
                // All named runs must be retryable before any is touched: a wrong id retries nothing.
                var refused = targets.Where(r => !RunStatus.IsRetryable(r.Status)).ToList();
                foreach (var run in refused) Console.Error.WriteLine($"error: run {run.Id}: {new RetryResult.NotRetryable(run.Status)}");
                if (refused.Count > 0) return 1;
            }
            foreach (var run in targets)
                Console.WriteLine($"run {run.Id}: {jobs.RetryAsync(run.Id).GetAwaiter().GetResult()}");
            return 0;
        });
        return command;
    }

    /// <summary>What is wrong with the command line, or null.</summary>
    private static string? Misuse(string[] runs, bool failed, string? experiment) =>
        experiment is not null && !failed ? "--experiment goes with --failed: it picks which experiment's failed runs to retry" :
        runs.Length > 0 && failed ? "name runs or give --failed, not both" :
        runs.Length == 0 && !failed ? "name the runs to retry (ids or prefixes), or give --failed" :
        null;
}
