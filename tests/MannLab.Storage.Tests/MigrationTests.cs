using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Storage.Tests;

[Collection(PostgresCollection.Name)]
public class MigrationTests(PostgresFixture pg)
{
    [Fact]
    public async Task Migrations_apply_to_an_empty_database_once_and_are_then_idempotent()
    {
        await using (var reset = pg.DataSource.CreateCommand("drop schema if exists mannlab cascade")) await reset.ExecuteNonQueryAsync();

        var first = await Migrations.ApplyAsync(pg.DataSource);
        var second = await Migrations.ApplyAsync(pg.DataSource);

        first.Should().Equal(Migrations.All().Select(m => m.Name));
        first.Should().Equal("0001_schema.sql", "0002_views.sql", "0003_jobs.sql", "0004_dashboards.sql", "0005_memory_snapshots.sql",
            "0006_waiting.sql", "0007_retry.sql", "0008_attempt_outcomes.sql", "0009_paper_table2.sql",
            "0010_knn_and_paper_reference.sql", "0011_reader_grants.sql", "0012_persistent_memory_variant.sql",
            "0013_class_count.sql", "0014_regression.sql");
        second.Should().BeEmpty();
        (await pg.Scalar<long>("select count(*) from information_schema.tables where table_schema = 'mannlab' and table_type = 'BASE TABLE'"))
            .Should().Be(11); // experiments, runs, run_attempts, metrics, instance_accuracy, checkpoints, memory_snapshots, run_summary, paper_results, schema_migrations, regression_bands
        (await pg.Scalar<long>("select count(*) from information_schema.views where table_schema = 'mannlab'")).Should().Be(8); // sweep_results, final_instance_accuracy, learning_curves, accuracy_by_model, paper_reference, paper_comparison, accuracy_by_classes, regression_steps
        (await EmbeddedLab.Column<string>(pg.DataSource, """
            select source || ' ' || paper_table || ' ' || classes || ': ' || rows
            from (select source, paper_table, classes, count(*) as rows from mannlab.paper_results group by source, paper_table, classes) by_setting order by 1
            """)).Should().Equal(
            "leputa_mann_meta_learning table1 5: 12", // MANN and LSTM at six sights
            "paper table1 5: 24", // human, feed-forward, LSTM, MANN
            "paper table2 15: 42", // seven models: Table 2's six and the MANN with NTM access
            "paper table2 5: 36",
            "snowkylin_ntm_tensorflow table1 5: 12",
            "snowkylin_ntm_tensorflow table2 15: 2"); // the 2nd and 10th sight, read from its plot
    }

    [Fact]
    public Task The_database_accepts_exactly_the_statuses_the_code_knows() => CheckHolds("runs", "runs_status_check", RunStatus.All);

    [Fact]
    public Task The_database_accepts_exactly_the_attempt_outcomes_the_code_knows() =>
        CheckHolds("run_attempts", "run_attempts_outcome_check", AttemptOutcome.All);

    /// <summary>The words the table's check allows are exactly <paramref name="words"/>.</summary>
    private async Task CheckHolds(string table, string constraint, IReadOnlyList<string> words)
    {
        await Migrations.ApplyAsync(pg.DataSource);

        var check = await pg.Scalar<string>($"""
            select pg_get_constraintdef(oid) from pg_constraint where conrelid = 'mannlab.{table}'::regclass and conname = '{constraint}'
            """);

        System.Text.RegularExpressions.Regex.Matches(check!, "'([a-z]+)'").Select(m => m.Groups[1].Value)
            .Should().BeEquivalentTo(words, $"the check reads: {check}");
    }

    [Fact]
    public async Task Concurrent_starts_apply_each_migration_once()
    {
        // Each session resets the database first, so each has seen the schema missing: a session
        // that had was the one to fail, when the lock was taken inside the migrations' transaction.
        var results = await PostgresFixture.AllAtOnce(pg.Server.ConnectionString, 8, db => Migrations.ApplyAsync(db),
            before: "drop schema if exists mannlab cascade");

        results.SelectMany(r => r).Should().Equal(Migrations.All().Select(m => m.Name));
        (await pg.Scalar<long>("select count(*) from mannlab.schema_migrations")).Should().Be(Migrations.All().Count);
    }

    [Fact]
    public async Task A_migration_changed_after_it_was_applied_is_an_error()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        await using (var tamper = pg.DataSource.CreateCommand("update mannlab.schema_migrations set checksum = 'x' where name = '0001_schema.sql'"))
            await tamper.ExecuteNonQueryAsync();
        try
        {
            var act = () => Migrations.ApplyAsync(pg.DataSource);
            await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("db/migrations/0001_schema.sql changed after it was applied*");
        }
        finally
        {
            await using var reset = pg.DataSource.CreateCommand("drop schema if exists mannlab cascade");
            await reset.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public void Starting_on_a_running_cluster_attaches_to_it_and_leaves_it_running()
    {
        using (var again = EmbeddedPostgres.Start(pg.Server.DataDirectory))
            again.Port.Should().Be(pg.Server.Port);
        // Disposing the attached instance did not stop the server.
        using var connection = pg.DataSource.OpenConnection();
        connection.State.Should().Be(System.Data.ConnectionState.Open);
    }

    [Fact]
    public void A_server_is_left_running_while_another_process_uses_it_and_stopped_once_it_is_alone()
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "data");
        var first = EmbeddedPostgres.Start(data);
        using (var other = new Npgsql.NpgsqlConnection(first.ConnectionString + ";Pooling=false"))
        {
            other.Open(); // as a second `mannlab up` or a psql session would be

            first.Dispose();

            first.LeftRunning.Should().Be(1);
            File.Exists(Path.Combine(data, "postmaster.pid")).Should().BeTrue();
        }
        using (var second = EmbeddedPostgres.Start(data)) second.Port.Should().Be(first.Port, "the server was still running");
        EmbeddedPostgres.Stop(data).Should().BeTrue();
        File.Exists(Path.Combine(data, "postmaster.pid")).Should().BeFalse();
    }
}
