using System.CommandLine;
using MannLab.Jobs;
using MannLab.Spec;

namespace MannLab.Cli;

/// <summary><c>mannlab submit FILE|DIR...</c>: queues specs into the configured database.</summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Spec files, or folders searched recursively", Arity = ArgumentArity.OneOrMore };
        var db = JobCommandSupport.DbOption();
        var command = new Command("submit", "Queue specs, one job per sweep point. Every file is checked first: if any is invalid, nothing is queued.");
        command.Arguments.Add(paths);
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            if (SpecFiles.Discover(parse.GetValue(paths)!, Console.Error) is not { } files) return 1;
            var experiments = new List<ExperimentFile>();
            var invalid = 0;
            foreach (var file in files)
            {
                if (SpecFiles.LoadOrReport(file, Console.Error) is { } experiment) experiments.Add(experiment);
                else invalid++;
            }
            if (invalid > 0)
            {
                Console.Error.WriteLine($"{invalid} of {files.Count} file(s) invalid: nothing queued");
                return 1;
            }
            using var jobs = JobCommandSupport.Open(parse.GetValue(db));
            if (jobs is null) return 1;
            foreach (var experiment in experiments)
            {
                var queued = jobs.Queue.RegisterAsync(experiment).GetAwaiter().GetResult();
                Console.WriteLine($"{experiment.File}: {Describe(queued)}");
            }
            jobs.Queue.DispatchAsync().GetAwaiter().GetResult();
            return 0;
        });
        return command;
    }

    public static string Describe(FileOutcome.Queued queued) =>
        queued.Added.Count == queued.Runs.Count ? $"queued {queued.Runs.Count} run(s)" :
        queued.Added.Count == 0 ? $"{queued.Runs.Count} run(s), all known already: nothing new to queue" :
        $"queued {queued.Added.Count} new run(s) of {queued.Runs.Count}";
}
