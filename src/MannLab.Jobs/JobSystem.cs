using Hangfire;
using Hangfire.PostgreSql;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Jobs;

/// <summary>
/// Everything a MannLab process needs to queue, train and watch runs: the database (configured or
/// embedded, migrated), the Hangfire storage in it, and the run store, read model, leases and
/// dispatcher.
/// </summary>
public sealed class JobSystem : IDisposable
{
    private JobSystem(Database database, JobSettings settings, PostgreSqlStorage storage)
    {
        Database = database;
        Settings = settings;
        Storage = storage;
        GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseStorage(Storage);
        Store = new RunStore(database.DataSource);
        Queries = new RunQueries(database.DataSource);
        Leases = new RunLeases(database.DataSource);
        Dispatcher = new RunDispatcher(database.DataSource, Storage);
        Queue = new ExperimentQueue(Store, Dispatcher);
    }

    public Database Database { get; }
    public JobSettings Settings { get; }
    public PostgreSqlStorage Storage { get; }
    public RunStore Store { get; }
    public RunQueries Queries { get; }
    public RunLeases Leases { get; }
    public RunDispatcher Dispatcher { get; }
    public ExperimentQueue Queue { get; }

    public static async Task<JobSystem> OpenAsync(string? connectionString, string home, Action<string>? log = null, JobSettings? settings = null,
        CancellationToken cancel = default, SharedServer? shared = null)
    {
        var database = await Database.OpenAsync(connectionString, home, log, cancel, shared);
        try
        {
            settings ??= JobSettings.FromEnvironment(home);
            return new JobSystem(database, settings, await QueueStorage.CreateAsync(database.DataSource, settings, cancel));
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    public WorkerHost StartWorkers(IEnumerable<string> devices, int workers, Action<string>? log = null) =>
        new(Database.DataSource, Database.ConnectionString, Settings, Storage, Dispatcher, devices, workers, log);

    /// <summary>Cancels a run: at once if nobody trains it, else through its worker, which checkpoints first.</summary>
    /// <returns>The run's status after the request, or null if there is no such run.</returns>
    public async Task<string?> CancelAsync(string runId, CancellationToken cancel = default)
    {
        var result = await Leases.RequestCancelAsync(runId, cancel);
        if (result is not { } r) return null;
        // Deleting the job takes it out of its queue, and wakes a worker training it sooner than its next heartbeat.
        if (r.JobId is not null && r.Status is RunStatus.Cancelled or RunStatus.Running) new BackgroundJobClient(Storage).Delete(r.JobId);
        return r.Status;
    }

    /// <summary>Queues a failed, cancelled or interrupted run again, as a new attempt from its last checkpoint.</summary>
    /// <returns>What happened, or null if there is no such run.</returns>
    public Task<RetryResult?> RetryAsync(string runId, CancellationToken cancel = default) => Dispatcher.RetryAsync(runId, cancel);

    public void Dispose() => Database.Dispose();
}
