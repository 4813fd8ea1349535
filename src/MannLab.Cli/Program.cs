using System.CommandLine;
using MannLab.Cli;

var root = new RootCommand(
    "MannLab: one-shot learning with memory-augmented neural networks (Santoro et al., 2016).\n" +
    "Experiments are YAML specs; see experiments/ and the README.");
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(UpCommand.Create());
root.Subcommands.Add(SubmitCommand.Create());
root.Subcommands.Add(WorkerCommand.Create());
root.Subcommands.Add(RunsCommand.Create());
root.Subcommands.Add(CancelCommand.Create());
root.Subcommands.Add(RetryCommand.Create());
root.Subcommands.Add(DbCommands.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(CompareCommand.CreatePlot());
root.Subcommands.Add(WorkerCommand.CreateTrainProcess());
return root.Parse(args).Invoke();
