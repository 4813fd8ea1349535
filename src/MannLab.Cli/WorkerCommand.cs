using System.CommandLine;
using MannLab.Jobs;
using MannLab.Runs;
using MannLab.TrainingHost;

namespace MannLab.Cli;

/// <summary>
/// <c>mannlab worker [--queues gpu,cpu] [--workers N]</c>: trains queued runs, for extra machines
/// pointed at a shared PostgreSQL. <c>_train RUN</c> is the training process a worker starts per run.
/// </summary>
public static class WorkerCommand
{
    public static Option<string> QueuesOption() => new("--queues")
    {
        Description = "Device queues to take runs from, most wanted first (cpu, gpu)", DefaultValueFactory = _ => "cpu",
    };

    public static Option<int> WorkersOption() => new("--workers")
    {
        Description = "Runs trained at once, each in its own one-thread process (default: one per core)",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Command Create()
    {
        var queues = QueuesOption();
        var workers = WorkersOption();
        var db = JobCommandSupport.DbOption();
        var command = new Command("worker", "Train queued runs from the database until stopped (Ctrl-C or SIGTERM: running runs checkpoint and go back to the queue)");
        command.Options.Add(queues);
        command.Options.Add(workers);
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            if (Validate(parse.GetValue(queues)!, parse.GetValue(workers)) is not { } devices) return 1;
            using var stop = new JobCommandSupport.StopSignal("stopping: running runs checkpoint and go back to the queue...");
            using var jobs = JobCommandSupport.Open(parse.GetValue(db), Log);
            if (jobs is null) return 1;
            Log($"worker {Environment.MachineName}:{Environment.ProcessId}: {parse.GetValue(workers)} slot(s) on queues {string.Join(",", devices)}; " +
                $"its runs' checkpoints and logs go to {jobs.Settings.WorkDirectory}/RUN on this machine (and the checkpoints to the database)");
            using (jobs.StartWorkers(devices, parse.GetValue(workers), Log))
                stop.Token.WaitHandle.WaitOne();
            Log("worker stopped");
            return 0;
        });
        return command;
    }

    public static string[]? Validate(string queues, int workers)
    {
        var devices = queues.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = devices.Where(d => !QueueNames.Devices.Contains(d)).ToList();
        if (devices.Length == 0 || unknown.Count > 0)
        {
            Console.Error.WriteLine($"error: --queues: unknown queue {string.Join(", ", unknown.Select(u => $"'{u}'"))}; expected a list of {string.Join(", ", QueueNames.Devices)}");
            return null;
        }
        if (workers < 1)
        {
            Console.Error.WriteLine($"error: --workers must be at least 1, not {workers}");
            return null;
        }
        return devices;
    }

    public static void Log(string message) => Console.WriteLine(JobCommandSupport.Timestamped(message));

    public static Command CreateTrainProcess()
    {
        var run = new Argument<string>("run");
        var worker = new Option<string>(TrainingProtocol.WorkerOption) { Required = true };
        var checkpoint = new Option<string>(TrainingProtocol.CheckpointOption) { Required = true };
        var command = new Command(TrainingProtocol.Command, "The training process of one run, started by a worker (TrainingProtocol)") { Hidden = true };
        command.Arguments.Add(run);
        command.Options.Add(worker);
        command.Options.Add(checkpoint);
        command.SetAction(parse => RunTraining.Run(parse.GetValue(run)!, parse.GetValue(worker)!, parse.GetValue(checkpoint)!,
            Console.Out, Console.Error));
        return command;
    }
}
