using System.Data;
using Npgsql;

namespace MannLab.Storage;

/// <summary>
/// The one lock under which a MannLab process creates or changes schemas in its database: our
/// migrations and Hangfire's. It is a session lock, taken before the transactions that do the work
/// begin, because a backend refreshes its catalog cache when a transaction starts, not when an
/// advisory lock it waited for is granted: after <c>pg_advisory_xact_lock</c>, a session that had
/// looked for the schema before could still believe it missing once the previous holder committed
/// it, and <c>create schema if not exists</c> failed with 23505 on pg_namespace_nspname_index.
/// </summary>
public static class SchemaLock
{
    // The key the migrations' transaction lock had, so that older MannLab processes are still kept out.
    private const long Key = 0x4D414E4E4C4142; // "MANNLAB"

    public static async Task<T> HoldAsync<T>(NpgsqlDataSource db, Func<NpgsqlConnection, Task<T>> work, CancellationToken cancel = default)
    {
        await using var connection = await db.OpenConnectionAsync(cancel);
        await Execute(connection, "select pg_advisory_lock(@key)", cancel);
        try
        {
            return await work(connection);
        }
        finally
        {
            // The pooled connection outlives this call and would keep the lock while idle; a broken
            // one has lost its session, and the lock with it.
            if (connection.FullState == ConnectionState.Open) await Execute(connection, "select pg_advisory_unlock(@key)", CancellationToken.None);
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancel)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", Key);
        await command.ExecuteNonQueryAsync(cancel);
    }
}
