namespace MannLab.Jobs.Tests;

[Collection(PostgresCollection.Name)]
public sealed class QueueStorageTests(PostgresFixture pg, HangfireLog hangfire)
{
    [Fact]
    public async Task Workers_starting_at_once_on_a_fresh_database_prepare_Hangfires_schema_as_one_would()
    {
        using var home = new TempFolder();
        var settings = JobSettings.FromEnvironment(home.Path);
        var alone = pg.NewDatabase();
        var together = pg.NewDatabase();

        var logged = hangfire.Entries.Count;
        await PostgresFixture.AllAtOnce(alone, 1, db => QueueStorage.CreateAsync(db, settings));
        var storages = await PostgresFixture.AllAtOnce(together, 8, db => QueueStorage.CreateAsync(db, settings));

        storages.Should().HaveCount(8);
        hangfire.Entries.Skip(logged).Where(e => e.Logger == typeof(Hangfire.PostgreSql.PostgreSqlStorage).FullName)
            .Select(e => $"{e.Level}: {e.Exception?.Message}").Should().BeEmpty("no worker's preparation failed and was retried");
        (await SchemaOf(together)).Should().Equal(await SchemaOf(alone));
    }

    /// <summary>Hangfire's schema version and its tables' columns, as text to compare.</summary>
    private static async Task<List<string>> SchemaOf(string connectionString)
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(connectionString);
        await using var command = db.CreateCommand($"""
            select 'version ' || version from {QueueStorage.Schema}.schema
            union all
            (select table_name || '.' || column_name || ' ' || data_type from information_schema.columns
             where table_schema = '{QueueStorage.Schema}' order by table_name, ordinal_position)
            """);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
