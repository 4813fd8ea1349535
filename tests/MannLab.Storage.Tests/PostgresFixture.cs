using MannLab.Storage;
using Npgsql;

namespace MannLab.Storage.Tests;

/// <summary>A real PostgreSQL cluster for the tests: created in a temporary folder, started, and stopped and removed at the end.</summary>
public sealed class PostgresFixture : IDisposable
{
    public PostgresFixture()
    {
        Folder = Directory.CreateTempSubdirectory("mannlab-pg-").FullName;
        // The server may run as the postgres user, which must be able to enter the folder.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Folder, (UnixFileMode)Convert.ToInt32("755", 8));
        Server = EmbeddedPostgres.Start(Path.Combine(Folder, "data"));
        DataSource = NpgsqlDataSource.Create(Server.ConnectionString);
    }

    public string Folder { get; }
    public EmbeddedPostgres Server { get; }
    public NpgsqlDataSource DataSource { get; }

    public async Task<T?> Scalar<T>(string sql)
    {
        await using var command = DataSource.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    public void Dispose()
    {
        DataSource.Dispose();
        Server.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
