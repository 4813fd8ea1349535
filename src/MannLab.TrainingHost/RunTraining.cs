using System.Runtime.InteropServices;
using MannLab.Runs;
using MannLab.Spec;
using MannLab.Storage;
using MannLab.Training;
using Npgsql;

namespace MannLab.TrainingHost;

/// <summary>
/// The training side of a job, in its own process: reads the run's spec from the database, puts
/// its latest checkpoint in place, and trains with results (where it runs among them) going to
/// PostgreSQL. It stops (after a checkpoint) when its standard input closes: its worker asked,
/// or its worker died. Signals from a terminal's Ctrl-C are left to the worker, which owns the
/// decision to stop.
/// </summary>
public static class RunTraining
{
    /// <param name="drawMemory">Draws a MANN checkpoint's memory at work (a PNG); its picture is stored at every checkpoint.</param>
    public static int Run(string runId, string worker, string checkpoint, Func<Spec.Spec, string, byte[]> drawMemory, TextWriter output, TextWriter errors)
    {
        var connectionString = Environment.GetEnvironmentVariable("MANNLAB_DB");
        if (string.IsNullOrEmpty(connectionString))
        {
            errors.WriteLine("error: MANNLAB_DB is not set; `_train` is started by a worker, not by hand (use `mannlab train FILE`)");
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
        ITrainingSink withMemory = spec.ResultValue.Model.IsMann ? new MemorySnapshots(sink, spec.ResultValue, drawMemory, errors) : sink;
        var trainer = new Trainer(spec.ResultValue, runId, checkpoint, withMemory, log: output.WriteLine);
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

    /// <summary>Stores a picture of the memory after each checkpoint; a picture that fails to draw is reported, and training goes on.</summary>
    private sealed class MemorySnapshots(DatabaseSink sink, Spec.Spec spec, Func<Spec.Spec, string, byte[]> draw, TextWriter errors) : ITrainingSink
    {
        public void Started(long episode, RunEnvironment environment) => sink.Started(episode, environment);

        public void Record(IReadOnlyList<Metric> metrics, IReadOnlyList<InstanceAccuracy> instances) => sink.Record(metrics, instances);

        public void Checkpointed(long episode, string file)
        {
            sink.Checkpointed(episode, file);
            byte[] png;
            try
            {
                png = draw(spec, file);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A picture is a view of the run, not part of it: losing one must not lose the run.
                errors.WriteLine($"warning: no memory picture at episode {episode}: {e.Message}");
                return;
            }
            sink.MemorySnapshot(episode, png);
        }

        public void Finished(TrainingResult result) => sink.Finished(result);
    }
}
