using System.CommandLine;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary><c>mannlab cancel RUN...</c>: stops runs; a running one checkpoints first.</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var runs = new Argument<string[]>("runs") { Description = "Run ids, or unique prefixes of them (see `mannlab runs`)", Arity = ArgumentArity.OneOrMore };
        var db = JobCommandSupport.DbOption();
        var command = new Command("cancel", "Cancel runs: a queued run leaves its queue; a running one checkpoints and stops at its worker's next heartbeat");
        command.Arguments.Add(runs);
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            if (JobCommandSupport.ResolveIds(jobs, parse.GetValue(runs)!) is not { } ids) return 1;
            foreach (var id in ids)
            {
                var status = jobs.CancelAsync(id).GetAwaiter().GetResult();
                Console.WriteLine(status switch
                {
                    RunStatus.Cancelled => $"run {id}: cancelled",
                    RunStatus.Running => $"run {id}: stopping; its worker checkpoints it and records it as cancelled",
                    _ => $"run {id}: already {status}, nothing to cancel",
                });
            }
            return 0;
        });
        return command;
    }
}
