using System.Runtime.InteropServices;
using MannLab.Spec;
using MannLab.Storage;
using MannLab.Training;
using Npgsql;

namespace MannLab.Jobs;

/// <summary>
/// The training side of a job, in its own process: reads the run's spec from the database, puts
/// its latest checkpoint in place, records where it runs, and trains with results going to
/// PostgreSQL. It stops (after a checkpoint) when its standard input closes: its worker asked,
/// or its worker died. Signals from a terminal's Ctrl-C are left to the worker, which owns the
/// decision to stop.
/// </summary>
public static class RunTraining
{
    public static int Run(string runId, string worker, string checkpoint, TextWriter output, TextWriter errors)
    {
        var connectionString = Environment.GetEnvironmentVariable("MANNLAB_DB");
        if (string.IsNullOrEmpty(connectionString))
        {
            errors.WriteLine("error: MANNLAB_DB is not set; `_train` is started by a worker, not by hand (use `mannlab train FILE`)");
            return 1;
        }
        using var db = NpgsqlDataSource.Create(connectionString);
        var store = new RunStore(db);
        var spec = Experiments.specOfJson(store.SpecJsonAsync(runId).GetAwaiter().GetResult());
        if (spec.IsError)
        {
            errors.WriteLine($"error: run {runId}'s stored spec no longer reads: {string.Join("; ", spec.ErrorValue)}");
            return TrainingProcess.Failed;
        }
        var from = store.RestoreCheckpointAsync(runId, checkpoint).GetAwaiter().GetResult();
        var t = spec.ResultValue.Training;
        store.RecordEnvironmentAsync(runId, RunEnvironment.Capture(t.Device.IsCuda ? "cuda" : "cpu", t.Threads)).GetAwaiter().GetResult();
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

        var trainer = new Trainer(spec.ResultValue, runId, checkpoint, new DatabaseSink(db, runId), log: output.WriteLine);
        var result = trainer.Run(stop.Token);
        switch (result.Outcome)
        {
            case Outcome.Completed:
                output.WriteLine($"run {runId}: completed at episode {result.Episodes}");
                return TrainingProcess.Completed;
            case Outcome.Interrupted:
                output.WriteLine($"run {runId}: checkpointed and stopped at episode {result.Episodes}");
                return TrainingProcess.Interrupted;
            default:
                errors.WriteLine($"error: {result.Reason}");
                return TrainingProcess.Failed;
        }
    }
}
