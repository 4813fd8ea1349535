using Hangfire;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs;

/// <summary>
/// A Hangfire server training runs: one worker per slot (each run in its own one-thread training
/// process), listening on the given device queues, plus the recovery pass that queues waiting runs
/// whose data has come (as this process sees it) and gives orphaned runs new jobs. Disposing it
/// stops the workers: each training process checkpoints and the jobs go back to their queues.
/// </summary>
public sealed class WorkerHost : IDisposable
{
    private readonly BackgroundJobServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _recovery;
    private readonly RunJob _job;

    public WorkerHost(NpgsqlDataSource db, string connectionString, JobSettings settings, JobStorage storage, RunDispatcher dispatcher,
        IEnumerable<string> devices, int workers, Action<string>? log = null)
    {
        _job = new RunJob(db, connectionString, settings, storage, log);
        var waits = new DataWaits(new RunLeases(db), new RunQueries(db));
        _server = new BackgroundJobServer(new BackgroundJobServerOptions
        {
            ServerName = $"{Environment.MachineName}:{Environment.ProcessId}",
            WorkerCount = workers,
            Queues = QueueNames.ForWorker(devices),
            Activator = new SingleJobActivator(_job),
            // Stopping cancels the jobs at once (StopTimeout stays zero), then waits for every training
            // process to checkpoint: one iteration and an upload.
            ShutdownTimeout = TimeSpan.FromMinutes(2),
            CancellationCheckInterval = TimeSpan.FromSeconds(2),
            SchedulePollingInterval = TimeSpan.FromSeconds(2),
        }, storage);
        _recovery = Task.Run(async () =>
        {
            // Said once per outage: the worker's and the runs' own lines tell the rest.
            var outage = new OutageReport(message => log?.Invoke($"recovery pass: {message}"));
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var woken = await waits.WakeAsync(_stop.Token);
                    if (woken.Count > 0) log?.Invoke($"the data of {woken.Count} waiting run(s) is here now: queued again");
                    var dispatched = await dispatcher.DispatchAsync(_stop.Token);
                    if (dispatched.Count > 0) log?.Invoke($"recovery: queued {dispatched.Count} unfinished run(s) again");
                    outage.Back();
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (Exception e) when (DatabaseOutage.Is(e))
                {
                    outage.Unreachable(e, "; trying again every pass");
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    log?.Invoke($"recovery pass failed: {e.Message}");
                }
                await Task.Delay(settings.RecoveryInterval, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        });
    }

    public void Dispose()
    {
        _stop.Cancel();
        _recovery.Wait();
        _server.SendStop();
        _server.Dispose();
        _job.StopAll(TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    private sealed class SingleJobActivator(RunJob job) : JobActivator
    {
        public override object ActivateJob(Type jobType) =>
            jobType == typeof(RunJob) ? job : throw new InvalidOperationException($"MannLab's workers run only {nameof(RunJob)}, not {jobType}");
    }
}
