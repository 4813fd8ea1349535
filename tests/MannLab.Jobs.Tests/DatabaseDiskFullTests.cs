using Npgsql;

namespace MannLab.Jobs.Tests;

/// <summary>
/// The database's disk fills while a run's checkpoint is stored: the run fails saying so and naming
/// the file PostgreSQL could not extend, the checkpoint stored before stays whole, and it resumes the
/// run to the numbers of a run that never stopped.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatabaseDiskFullTests(PostgresFixture pg) : IDisposable
{
    private readonly JobsHarness _lab = new(pg);

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task When_the_databases_disk_fills_during_a_checkpoint_the_run_fails_saying_so_and_the_stored_checkpoint_resumes_it_exactly()
    {
        const int every = 320;
        // An LSTM whose checkpoint (about 1.7 MB) dwarfs everything else the table holds.
        var yaml = JobsHarness.Spec("db-full", 960, every, every).Replace("hidden: 16", "hidden: 128");
        var spec = _lab.Home.Write("db-full.yaml", yaml);
        var straight = _lab.Run("train", spec, "--out", _lab.Home.Sub("straight"));
        straight.ExitCode.Should().Be(0, straight.Out + straight.Err);
        var size = new FileInfo(_lab.Home.Sub("straight/checkpoint.bin")).Length;

        // The checkpoints on a disk of their own: a tablespace on a small tmpfs, with room for one
        // checkpoint but not for a second beside it (the old bytes stay until the new ones commit).
        using var disk = await Tmpfs.MountAsync(4 * size, owner: "postgres");
        var tablespace = "t_" + Guid.NewGuid().ToString("N")[..12];
        await Execute(pg.DataSource, $"create tablespace {tablespace} location '{disk.Path}'");
        string run;
        try
        {
            await Execute(_lab.Db, $"alter table mannlab.checkpoints set tablespace {tablespace}");
            disk.Fill(leaving: size + size / 2);
            run = (await _lab.Submit("db-full.yaml", yaml)).Runs.Head.Id;
            using (_lab.Jobs.StartWorkers(["cpu"], 1))
                await _lab.Until(() => _lab.AllFinished(1), "the run to end");
        }
        finally
        {
            await Execute(_lab.Db, "alter table mannlab.checkpoints set tablespace pg_default");
            await Execute(pg.DataSource, $"drop tablespace {tablespace}");
        }

        (await _lab.Scalar<string>("select status from mannlab.runs")).Should().Be("failed");
        (await _lab.Scalar<string>("select error from mannlab.runs")).Should()
            .Contain("cannot store the checkpoint of episode 640 in the database: its disk is full (could not extend file \"pg_tblspc/")
            .And.Contain("the previous checkpoint is kept");
        (await _lab.Scalar<string>("select outcome from mannlab.run_attempts")).Should().Be("failed");

        // The stored checkpoint, as another machine would get it, resumes the run exactly.
        var fromDatabase = _lab.Home.Sub("from-db");
        (await _lab.Jobs.Store.RestoreCheckpointAsync(run, Path.Combine(fromDatabase, "checkpoint.bin"))).Should().Be(every);
        var resumed = _lab.Run("train", spec, "--out", fromDatabase);
        resumed.ExitCode.Should().Be(0, resumed.Out + resumed.Err);
        resumed.Out.Should().Contain($"at episode {every}");
        RunRecord.MetricsOf(fromDatabase).Should().Equal(RunRecord.MetricsOf(_lab.Home.Sub("straight")).Where(m => long.Parse(m.Split(' ')[0]) > every),
            "from the stored checkpoint on, every metric at every step, to the last bit");
    }

    private static async Task Execute(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
