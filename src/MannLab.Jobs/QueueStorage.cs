using Hangfire.PostgreSql;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs;

/// <summary>
/// Hangfire's storage in MannLab's PostgreSQL (schema "hangfire"), through the one pooled data
/// source. The sliding invisibility timeout keeps a long run's job claimed for as long as its
/// worker lives; without it Hangfire.PostgreSql hands a job still running after the timeout to
/// another worker (measured: a 20-second job with a 5-second timeout ran 5 times at once).
/// </summary>
public static class QueueStorage
{
    public const string Schema = "hangfire";

    /// <summary>
    /// Prepares Hangfire's schema under <see cref="SchemaLock"/> and opens the storage. Hangfire.PostgreSql
    /// prepares it with no lock of its own: workers starting together on a fresh database collided
    /// (23505 on its CREATE SCHEMA), and it only logged that and retried after a backoff.
    /// </summary>
    public static Task<PostgreSqlStorage> CreateAsync(NpgsqlDataSource db, JobSettings settings, CancellationToken cancel = default) =>
        SchemaLock.HoldAsync(db, connection =>
        {
            PostgreSqlObjectsInstaller.Install(connection, Schema);
            return Task.FromResult(new PostgreSqlStorage(new DataSourceConnections(db), new PostgreSqlStorageOptions
            {
                SchemaName = Schema,
                PrepareSchemaIfNecessary = false,
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = settings.InvisibilityTimeout,
                QueuePollInterval = TimeSpan.FromSeconds(1),
                // Hangfire keeps finished jobs for a day; MannLab's own tables are the record.
                JobExpirationCheckInterval = TimeSpan.FromMinutes(30),
            }));
        }, cancel);

    /// <summary>
    /// Which of <paramref name="jobIds"/> will still run: waiting in their queue, claimed by a
    /// worker, or scheduled for a retry. A deleted job can linger in the queue table until a worker
    /// skips it; it does not count. One query, however many jobs.
    /// </summary>
    public static IReadOnlySet<string> PendingJobs(NpgsqlDataSource db, IReadOnlyCollection<string> jobIds)
    {
        var ids = jobIds.Select(j => long.TryParse(j, out var id) ? id : (long?)null).OfType<long>().ToArray();
        if (ids.Length == 0) return new HashSet<string>();
        using var command = db.CreateCommand($"""
            select j.id from {Schema}.job j where j.id = any(@jobs) and (j.statename in ('Scheduled', 'Awaiting')
                   or (j.statename in ('Enqueued', 'Processing') and exists (select 1 from {Schema}.jobqueue q where q.jobid = j.id)))
            """);
        command.Parameters.AddWithValue("jobs", ids);
        var pending = new HashSet<string>();
        using var rows = command.ExecuteReader();
        while (rows.Read()) pending.Add(Convert.ToInt64(rows.GetValue(0)).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return pending;
    }

    /// <summary>Whether the job will still run (see <see cref="PendingJobs"/>).</summary>
    public static bool IsPending(NpgsqlDataSource db, string jobId) => PendingJobs(db, [jobId]).Count > 0;

    private sealed class DataSourceConnections(NpgsqlDataSource db) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => db.CreateConnection();
    }
}
