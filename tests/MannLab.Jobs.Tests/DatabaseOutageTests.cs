using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs.Tests;

/// <summary>
/// The database goes away mid-run and comes back on the same port: the embedded server stopped
/// (<c>pg_ctl stop -m fast</c>) and started again. Shorter than the lease, training goes on and
/// holds its records; longer, the run stops at a checkpoint and resumes once the database is back.
/// Either way `up` lives through it, no second copy of the run trains, and the run's record
/// equals an uninterrupted `mannlab train`, to the last bit.
/// </summary>
public sealed class DatabaseOutageTests
{
    private const int Episodes = 192000, Every = 32000, Batch = 16;

    [Fact]
    public async Task An_outage_shorter_than_the_lease_leaves_training_going_and_loses_nothing()
    {
        using var lab = new EmbeddedLab(leaseSeconds: 45);
        var (run, _, db) = await Outage(lab, TimeSpan.FromSeconds(15));
        await using var _ = db;

        (await EmbeddedLab.Column<string>(db, "select outcome from mannlab.run_attempts order by attempt"))
            .Should().Equal(["succeeded"], "the worker kept its lease: one attempt trained the run from start to end");
        Directory.GetFiles(RunFolder(lab, run), "attempt-*.log").Should().HaveCount(1, "no second training process started");
        var log = File.ReadAllText(Path.Combine(RunFolder(lab, run), "attempt-1.log"));
        log.Should().Contain("the database is unreachable").And.Contain("training goes on")
            .And.Contain("everything recorded meanwhile is written");
        // The worker says so once the database is back: at its next renewal, or on recording the attempt if the run ended first.
        lab.Output.Should().Contain($"run {run}: the database is back after");
    }

    [Fact]
    public async Task An_outage_longer_than_the_lease_stops_the_run_at_a_checkpoint_and_it_resumes_once_the_database_is_back()
    {
        // A lease of 10 s: a worker stops a run it has not renewed for the lease less a heartbeat, and a loaded machine's renewals can take seconds.
        using var lab = new EmbeddedLab(leaseSeconds: 10);
        var (run, checkpoint, db) = await Outage(lab, TimeSpan.FromSeconds(25));
        await using var _ = db;

        (await EmbeddedLab.Column<string>(db, "select outcome from mannlab.run_attempts order by attempt"))
            .Should().Equal(["interrupted", "succeeded"], "the run stopped before its lease ran out, and one more attempt finished it:\n{0}", lab.Output);
        lab.Output.Should().Contain("stopping at a checkpoint until it is back");
        File.ReadAllText(Path.Combine(RunFolder(lab, run), "attempt-1.log")).Should().Contain("write(s) the database never took",
            "the first attempt's last records and checkpoint never reached the database");
        (await EmbeddedLab.Column<long>(db, "select from_episode from mannlab.run_attempts where attempt = 2")).Should().Equal(checkpoint);
        File.ReadAllText(Path.Combine(RunFolder(lab, run), "attempt-2.log")).Should().Contain($"resuming at episode {checkpoint}",
            "it resumed from the checkpoint the database held, not from the local one saved after the outage began");
    }

    /// <summary>
    /// Trains the run under `up --exit-when-done`, takes the database away for <paramref name="length"/>
    /// past a checkpoint, and brings it back; checks that `up` lived through it and that the run's
    /// record equals an uninterrupted run's. The run, its checkpoint when the outage began, and its database.
    /// </summary>
    private static async Task<(string Run, long Checkpoint, NpgsqlDataSource Db)> Outage(EmbeddedLab lab, TimeSpan length)
    {
        var spec = lab.Home.Write("experiments/outage.yaml", JobsHarness.Spec("outage", Episodes, 2 * Every, Every));
        var straight = Task.Run(() => lab.Run("train", spec, "--out", lab.Home.Sub("straight")));
        var up = lab.Start(["up", "--experiments", "experiments", "--workers", "1", "--port", "0", "--exit-when-done"]);
        var (run, checkpoint, _) = await lab.UntilStranded(up, Every, Batch);

        var outage = ServerOutage.Begin(lab.Cluster);
        await Task.Delay(length);
        up.HasExited.Should().BeFalse(lab.Output);
        await outage.EndAsync();
        await lab.Exited(up, "up to finish the run");

        up.ExitCode.Should().Be(0, lab.Output);
        lab.Output.Should().Contain("the database is unreachable").And.Contain("the database is back").And.Contain("all 1 run(s) succeeded")
            .And.NotContain("Unhandled exception");
        var reference = await straight;
        reference.ExitCode.Should().Be(0, reference.Out + reference.Err);
        var server = EmbeddedPostgres.Start(lab.Cluster); // `up` stopped it as it exited; the lab's end stops it again
        var db = NpgsqlDataSource.Create(server.ConnectionString);
        (await EmbeddedLab.Column<string>(db, "select status from mannlab.runs")).Should().Equal("succeeded");
        var expected = RunRecord.MetricsOf(lab.Home.Sub("straight"));
        expected.Should().Contain(m => m.Contains(" eval_acc_2 ")).And.Contain(m => m.StartsWith($"{Episodes} "));
        (await RunRecord.MetricsOf(db, run)).Should().Equal(expected, "every metric at every step, to the last bit, none missing and none twice");
        (await RunRecord.InstancesOf(db, run)).Should().Equal(RunRecord.InstancesOf(lab.Home.Sub("straight")));
        return (run, checkpoint, db);
    }

    private static string RunFolder(EmbeddedLab lab, string run) => Path.Combine(lab.Home.Path, ".mannlab", "work", run);
}
