using System.CommandLine;

namespace MannLab.Cli;

/// <summary>Every command of the program, in one tree: what <c>mannlab</c> parses, and what its help lists.</summary>
public static class Commands
{
    public static RootCommand Root()
    {
        var root = new RootCommand(
            "MannLab: one-shot learning with memory-augmented neural networks (Santoro et al., 2016).\n" +
            "Experiments are YAML specs; see experiments/ and the README.");
        Command[] commands =
        [
            ValidateCommand.Create(), PlanCommand.Create(), DataCommands.Create(), TrainCommand.Create(), BenchCommand.Create(),
            InspectCommand.Create(), UpCommand.Create(), SubmitCommand.Create(), WorkerCommand.Create(), RunsCommand.Create(),
            CancelCommand.Create(), RetryCommand.Create(), DbCommands.Create(), ServeCommand.Create(), CompareCommand.Create(),
            CompareCommand.CreatePlot(), ReportCommand.Create(), WorkerCommand.CreateTrainProcess(),
        ];
        foreach (var command in commands) root.Subcommands.Add(command);
        return root;
    }

    /// <summary>The paths of every command a user can call (hidden ones left out), each as its words: ["db", "stop"].</summary>
    public static IEnumerable<string[]> Visible(Command command, string[]? path = null)
    {
        path ??= [];
        yield return path;
        foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
            foreach (var deeper in Visible(sub, [.. path, sub.Name]))
                yield return deeper;
    }
}
