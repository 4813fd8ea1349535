using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs.Tests;

/// <summary>
/// The machine dies mid-run: `up`, its training process and the embedded PostgreSQL are killed at
/// once, with nothing tidied up. The next `up` must start the server again, find the run through
/// its lease and finish it from its checkpoint, with the metrics an uninterrupted run records.
/// </summary>
public sealed class MachineDeathTests : IDisposable
{
    private readonly EmbeddedLab _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task After_every_lab_process_is_killed_at_once_the_next_up_restarts_the_database_and_resumes_the_run_to_an_uninterrupted_runs_metrics()
    {
        const int episodes = 64000, every = 12800, batch = 16;
        var spec = _lab.Home.Write("experiments/blackout.yaml", JobsHarness.Spec("blackout", episodes, every, every));
        var cluster = _lab.Cluster;
        var straight = Task.Run(() => _lab.Run("train", spec, "--out", _lab.Home.Sub("straight")));

        var first = _lab.Start(["up", "--experiments", "experiments", "--workers", "1", "--port", "0"]);
        // Strike in the first half of a checkpoint interval, past its first flushes.
        var (run, checkpoint, port) = await _lab.UntilStranded(first, every, batch);
        var killed = Blackout.Strike(first.Id, cluster);
        await _lab.Until(() => killed.All(Blackout.IsDead), "the killed processes to be gone");

        // What the machine finds when it comes back: the server's PID reused by an unrelated
        // process of the server's own user, and its port taken by another program.
        File.Exists(Path.Combine(cluster, "postmaster.pid")).Should().BeTrue("a killed server leaves its postmaster.pid");
        var squatter = new TcpListener(IPAddress.Loopback, port);
        squatter.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        squatter.Start();
        try
        {
            var stranger = _lab.Start([], IsRoot ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "sleep", "600"] : ["sleep", "600"]);
            var pidFile = Path.Combine(cluster, "postmaster.pid");
            File.WriteAllLines(pidFile, [stranger.Id.ToString(CultureInfo.InvariantCulture), .. File.ReadAllLines(pidFile).Skip(1)]);

            // Bounded: a server taken for running when it is not leaves `up` waiting on the squatter forever.
            var again = await Command.RunAsync(_lab.StartInfo("up", "--experiments", "experiments", "--workers", "1", "--port", "0", "--exit-when-done"),
                TimeSpan.FromMinutes(10));

            again.ExitCode.Should().Be(0, again.Out + again.Err);
            again.Out.Should().Contain("did not stop cleanly").And.Contain("all 1 run(s) succeeded");
            var restarted = int.Parse(Regex.Match(again.Out, @"started PostgreSQL on 127\.0\.0\.1:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
            restarted.Should().NotBe(port, "the old port is taken");
        }
        finally
        {
            squatter.Stop();
        }

        var reference = await straight;
        reference.ExitCode.Should().Be(0, reference.Out + reference.Err);
        using var server = EmbeddedPostgres.Start(cluster);
        await using var db = NpgsqlDataSource.Create(server.ConnectionString);
        (await EmbeddedLab.Column<string>(db, "select status from mannlab.runs")).Should().Equal("succeeded");
        var attempts = await EmbeddedLab.Column<string>(db, "select outcome from mannlab.run_attempts order by attempt");
        attempts.Should().HaveCount(2).And.Equal(["lost", "succeeded"], "the dead worker's attempt is closed as lost, and one more trained the run");
        File.ReadAllText(Path.Combine(_lab.Home.Path, ".mannlab", "work", run, "attempt-2.log"))
            .Should().Contain($"resuming at episode {checkpoint}", "it resumed from the checkpoint the database held when the machine died");

        var expected = RunRecord.MetricsOf(_lab.Home.Sub("straight"));
        expected.Should().Contain(m => m.Contains(" eval_acc_2 ")).And.Contain(m => m.StartsWith($"{episodes} "));
        (await RunRecord.MetricsOf(db, run)).Should().Equal(expected, "every metric at every step, to the last bit, none missing and none twice");
        (await RunRecord.InstancesOf(db, run)).Should().Equal(RunRecord.InstancesOf(_lab.Home.Sub("straight")));
    }

    private static bool IsRoot => System.Environment.UserName == "root";
}
