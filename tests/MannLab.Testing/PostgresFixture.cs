using MannLab.Storage;
using Npgsql;

namespace MannLab.Testing;

/// <summary>
/// A real PostgreSQL cluster for the tests: created in a temporary folder, started, and stopped
/// and removed at the end. Tests that must not see each other's runs each take a database of
/// their own with <see cref="NewDatabase"/>.
/// </summary>
public sealed class PostgresFixture : IDisposable
{
    private readonly TempFolder _folder = new();

    public PostgresFixture()
    {
        Server = EmbeddedPostgres.Start(Path.Combine(_folder.Path, "data"));
        DataSource = NpgsqlDataSource.Create(Server.ConnectionString);
    }

    public EmbeddedPostgres Server { get; }
    public NpgsqlDataSource DataSource { get; }

    public async Task<T?> Scalar<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    /// <summary>A new, empty database on the cluster; its connection string.</summary>
    public string NewDatabase()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..12];
        using (var create = DataSource.CreateCommand($"create database {name}")) create.ExecuteNonQuery();
        return new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>
    /// Makes <paramref name="count"/> calls on <paramref name="connectionString"/> really at once, as
    /// workers starting together do: each on a thread and a data source of its own, whose one
    /// connection has run <paramref name="before"/> and waits in its pool when a barrier lets them
    /// all go, so that none is ahead while the others still connect.
    /// </summary>
    public static async Task<T[]> AllAtOnce<T>(string connectionString, int count, Func<NpgsqlDataSource, Task<T>> call, string before = "select 1")
    {
        var sources = Enumerable.Range(0, count).Select(_ => NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 1 }.ConnectionString)).ToArray();
        try
        {
            foreach (var source in sources)
            {
                await using var command = source.CreateCommand(before);
                await command.ExecuteNonQueryAsync();
            }
            using var gate = new Barrier(count);
            return await Task.WhenAll(sources.Select(source => Task.Factory.StartNew(() =>
            {
                gate.SignalAndWait();
                return call(source);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));
        }
        finally
        {
            foreach (var source in sources) await source.DisposeAsync();
        }
    }

    public void Dispose()
    {
        DataSource.Dispose();
        Server.Dispose();
        _folder.Dispose();
    }
}
