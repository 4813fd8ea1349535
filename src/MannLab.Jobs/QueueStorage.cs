using Hangfire.PostgreSql;
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

    public static PostgreSqlStorage Create(NpgsqlDataSource db, JobSettings settings) => new(new DataSourceConnections(db), new PostgreSqlStorageOptions
    {
        SchemaName = Schema,
        PrepareSchemaIfNecessary = true,
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = settings.InvisibilityTimeout,
        QueuePollInterval = TimeSpan.FromSeconds(1),
        // Hangfire keeps finished jobs for a day; MannLab's own tables are the record.
        JobExpirationCheckInterval = TimeSpan.FromMinutes(30),
    });

    /// <summary>
    /// Whether the job will still run: waiting in its queue, claimed by a worker, or scheduled for
    /// a retry. A deleted job can linger in the queue table until a worker skips it; it does not count.
    /// </summary>
    public static bool IsPending(NpgsqlDataSource db, string jobId)
    {
        if (!long.TryParse(jobId, out var id)) return false;
        using var command = db.CreateCommand($"""
            select exists (select 1 from {Schema}.job j where j.id = @job and (j.statename in ('Scheduled', 'Awaiting')
                           or (j.statename in ('Enqueued', 'Processing') and exists (select 1 from {Schema}.jobqueue q where q.jobid = j.id))))
            """);
        command.Parameters.AddWithValue("job", id);
        return command.ExecuteScalar() is true;
    }

    private sealed class DataSourceConnections(NpgsqlDataSource db) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => db.CreateConnection();
    }
}
