using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace MannLab.Storage;

/// <summary>
/// Applies db/migrations/*.sql in name order, each once, in its own transaction, recorded in
/// mannlab.schema_migrations with its checksum, under <see cref="SchemaLock"/> so that workers
/// starting at the same time take turns. A migration whose text changed after it was applied is an
/// error, not silently skipped.
/// </summary>
public static class Migrations
{
    public static IReadOnlyList<(string Name, string Sql)> All()
    {
        var assembly = typeof(Migrations).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith("migrations/") && n.EndsWith(".sql"))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (n["migrations/".Length..], reader.ReadToEnd());
            })];
    }

    /// <returns>The migrations applied by this call (none when the database was up to date).</returns>
    public static Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource db, CancellationToken cancel = default) =>
        SchemaLock.HoldAsync(db, connection => ApplyAsync(connection, cancel), cancel);

    private static async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlConnection connection, CancellationToken cancel)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancel);
        await Execute(connection, """
            create schema if not exists mannlab;
            create table if not exists mannlab.schema_migrations (
                name text primary key, checksum text not null, applied_at timestamptz not null default now())
            """, cancel);
        var applied = new Dictionary<string, string>();
        await using (var read = new NpgsqlCommand("select name, checksum from mannlab.schema_migrations", connection))
        await using (var rows = await read.ExecuteReaderAsync(cancel))
            while (await rows.ReadAsync(cancel)) applied[rows.GetString(0)] = rows.GetString(1);
        var done = new List<string>();
        foreach (var (name, sql) in All())
        {
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
            if (applied.TryGetValue(name, out var previous))
            {
                if (previous != checksum)
                    throw new InvalidOperationException($"db/migrations/{name} changed after it was applied; add a new migration instead");
                continue;
            }
            await Execute(connection, sql, cancel);
            await Execute(connection, "insert into mannlab.schema_migrations (name, checksum) values (@name, @checksum)", cancel,
                ("name", name), ("checksum", checksum));
            done.Add(name);
        }
        await transaction.CommitAsync(cancel);
        return done;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancel, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancel);
    }
}
