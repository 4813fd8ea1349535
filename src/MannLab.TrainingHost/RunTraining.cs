using System.Runtime.InteropServices;
using MannLab.Models;
using MannLab.Runs;
using MannLab.Spec;
using MannLab.Storage;
using MannLab.Training;
using Npgsql;

namespace MannLab.TrainingHost;

/// <summary>
/// The training side of a job, in its own process (<see cref="TrainingProtocol"/>): reads the
/// run's spec from the database, puts its latest checkpoint in place, and trains with results
/// going to PostgreSQL, until it is done or its standard input closes.
/// </summary>
public static class RunTraining
{
    public static int Run(string runId, string worker, string checkpoint, TextWriter output, TextWriter errors)
    {
        var connectionString = Environment.GetEnvironmentVariable(TrainingProtocol.DatabaseVariable);
        if (string.IsNullOrEmpty(connectionString))
        {
            errors.WriteLine($"error: {TrainingProtocol.DatabaseVariable} is not set; `{TrainingProtocol.Command}` is started by a worker, not by hand (use `mannlab train FILE`)");
            return TrainingExitCode.NotStarted;
        }
        // Named, so a run's writes can be told from its worker's (pg_stat_activity, tests).
        using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = TrainingProtocol.ApplicationName }.ConnectionString);
        var spec = Experiments.specOfJson(new RunQueries(db).SpecJsonAsync(runId).GetAwaiter().GetResult());
        if (spec.IsError)
        {
            errors.WriteLine($"{TrainingProtocol.ErrorPrefix}run {runId}'s stored spec no longer reads: {string.Join("; ", spec.ErrorValue)}");
            return TrainingExitCode.Failed;
        }
        var from = new RunStore(db).RestoreCheckpointAsync(runId, checkpoint).GetAwaiter().GetResult();
        output.WriteLine($"run {runId} on {worker}: {(from is { } e ? $"resuming at episode {e}" : "starting")}");

        using var stop = new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        var stdin = new Thread(() =>
        {
            try
            {
                while (Console.In.ReadLine() is not null) { }
            }
            catch (IOException)
            {
                // a broken pipe is an end too
            }
            stop.Cancel();
        }) { IsBackground = true, Name = "stdin watch" };
        stdin.Start();

        var sink = new DatabaseSink(db, runId, worker, output.WriteLine);
        var t = spec.ResultValue.Training;
        TorchRuntime.BeforeTorchLoads(TorchRuntime.SplitsFusedRecurrence(spec.ResultValue.Model, t.Threads, t.Device));
        var trainer = new Trainer(spec.ResultValue, runId, checkpoint, sink, log: output.WriteLine);
        TrainingResult result;
        bool written;
        try
        {
            result = trainer.Run(stop.Token);
            // A run is done only once its records are in: training may have outrun an outage.
            written = sink.Drain(stop.Token);
        }
        catch (Exception stopped) when (stopped is LeaseLostException or DiskFullException)
        {
            errors.WriteLine(TrainingProtocol.ErrorPrefix + stopped.Message);
            return stopped is LeaseLostException ? TrainingExitCode.Interrupted : TrainingExitCode.Failed;
        }
        if (result.Outcome == Outcome.Failed)
        {
            errors.WriteLine(TrainingProtocol.ErrorPrefix + result.Reason);
            return TrainingExitCode.Failed;
        }
        if (!written)
        {
            output.WriteLine($"run {runId}: stopped at episode {result.Episodes} with {sink.HeldWrites} write(s) the database never took; " +
                             "the run resumes from the database's checkpoint");
            return TrainingExitCode.Interrupted;
        }
        output.WriteLine(result.Outcome == Outcome.Completed
            ? $"run {runId}: completed at episode {result.Episodes}"
            : $"run {runId}: checkpointed and stopped at episode {result.Episodes}");
        return result.Outcome == Outcome.Completed ? TrainingExitCode.Completed : TrainingExitCode.Interrupted;
    }
}
