using System.CommandLine;

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
            // Resolve every id before cancelling any: a typo cancels nothing.
            var ids = new List<string>();
            foreach (var given in parse.GetValue(runs)!)
            {
                var matches = jobs.Store.MatchIdsAsync(given).GetAwaiter().GetResult();
                if (matches.Count == 1 && given.Length >= 4 || matches.Contains(given))
                {
                    ids.Add(matches.Count == 1 ? matches[0] : given);
                    continue;
                }
                Console.Error.WriteLine(matches.Count == 0 ? $"error: no run {given}" :
                    given.Length < 4 ? $"error: '{given}' is too short to name a run; give at least 4 characters" :
                    $"error: '{given}' could be any of {string.Join(", ", matches)}");
                return 1;
            }
            foreach (var id in ids)
            {
                var status = jobs.CancelAsync(id).GetAwaiter().GetResult();
                Console.WriteLine(status switch
                {
                    "cancelled" => $"run {id}: cancelled",
                    "running" => $"run {id}: stopping; its worker checkpoints it and records it as cancelled",
                    _ => $"run {id}: already {status}, nothing to cancel",
                });
            }
            return 0;
        });
        return command;
    }
}
