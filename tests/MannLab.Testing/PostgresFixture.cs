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

    public void Dispose()
    {
        DataSource.Dispose();
        Server.Dispose();
        _folder.Dispose();
    }
}
