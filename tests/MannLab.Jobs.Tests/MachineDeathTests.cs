using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
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
    private readonly TempFolder _home = new();
    private readonly List<Process> _processes = [];

    private IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["MANNLAB_HOME"] = _home.Path,
        ["MANNLAB_DB"] = "", // MannLab's own server, under the home
        ["MANNLAB_LEASE_SECONDS"] = "4",
        ["MANNLAB_HEARTBEAT_SECONDS"] = "1",
        ["MANNLAB_INVISIBILITY_SECONDS"] = "10",
        ["MANNLAB_RECOVERY_SECONDS"] = "1",
    };

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
        }
        // A server left by a failed test: stop it, so the folder can go.
        EmbeddedPostgres.Stop(Database.EmbeddedFolderFor(_home.Path));
        _home.Dispose();
    }

    [Fact]
    public async Task After_every_lab_process_is_killed_at_once_the_next_up_restarts_the_database_and_resumes_the_run_to_an_uninterrupted_runs_metrics()
    {
        const int episodes = 64000, every = 12800, batch = 16;
        var spec = _home.Write("experiments/blackout.yaml", JobsHarness.Spec("blackout", episodes, every, every));
        var cluster = Database.EmbeddedFolderFor(_home.Path);
        var straight = Task.Run(() => Mannlab.Run(_home.Path, Environment, "train", spec, "--out", _home.Sub("straight")));

        var output = new StringBuilder();
        var first = Start(output, "up", "--experiments", "experiments", "--workers", "1", "--port", "0");
        // Strike in the first half of a checkpoint interval, past its first flushes: the database
        // then holds metrics its checkpoint does not cover, and the next checkpoint is far off.
        var (run, checkpoint, port) = await UntilStranded(first, output, cluster, every, batch);
        var killed = Blackout.Strike(first.Id, cluster);
        await Until(() => killed.All(Blackout.IsDead), "the killed processes to be gone", output);

        // What the machine finds when it comes back: the server's PID reused by an unrelated
        // process of the server's own user, and its port taken by another program.
        File.Exists(Path.Combine(cluster, "postmaster.pid")).Should().BeTrue("a killed server leaves its postmaster.pid");
        var squatter = new TcpListener(IPAddress.Loopback, port);
        squatter.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        squatter.Start();
        try
        {
            var stranger = Start(new StringBuilder(), IsRoot ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "sleep", "600"] : ["sleep", "600"]);
            var pidFile = Path.Combine(cluster, "postmaster.pid");
            File.WriteAllLines(pidFile, [stranger.Id.ToString(CultureInfo.InvariantCulture), .. File.ReadAllLines(pidFile).Skip(1)]);

            // Bounded: a server taken for running when it is not leaves `up` waiting on the squatter forever.
            var again = await Command.RunAsync(Mannlab.Start(_home.Path, Environment,
                "up", "--experiments", "experiments", "--workers", "1", "--port", "0", "--exit-when-done"), TimeSpan.FromMinutes(10));

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
        (await Column<string>(db, "select status from mannlab.runs")).Should().Equal("succeeded");
        var attempts = await Column<string>(db, "select outcome from mannlab.run_attempts order by attempt");
        attempts.Should().HaveCount(2).And.Equal(["lost", "succeeded"], "the dead worker's attempt is closed as lost, and one more trained the run");
        File.ReadAllText(Path.Combine(_home.Path, ".mannlab", "work", run, "attempt-2.log"))
            .Should().Contain($"resuming at episode {checkpoint}", "it resumed from the checkpoint the database held when the machine died");

        var expected = RunRecord.MetricsOf(_home.Sub("straight"));
        expected.Should().Contain(m => m.Contains(" eval_acc_2 ")).And.Contain(m => m.StartsWith($"{episodes} "));
        (await RunRecord.MetricsOf(db, run)).Should().Equal(expected, "every metric at every step, to the last bit, none missing and none twice");
        (await RunRecord.InstancesOf(db, run)).Should().Equal(RunRecord.InstancesOf(_home.Sub("straight")));
    }

    private static bool IsRoot => System.Environment.UserName == "root";

    /// <summary>Polls the first `up`'s database until its run is checkpointed and has recorded past the checkpoint, in the first half of an interval.</summary>
    private async Task<(string Run, long Checkpoint, int Port)> UntilStranded(Process up, StringBuilder output, string cluster, int every, int batch)
    {
        (string, long, int)? found = null;
        await Until(async () =>
        {
            if (up.HasExited) throw new InvalidOperationException($"up exited with {up.ExitCode}:\n{Read(output)}");
            if (ServerLock.Running(cluster) is not { } server) return false;
            var text = $"Host=127.0.0.1;Port={server.Port};Username={EmbeddedPostgres.User};Database={EmbeddedPostgres.Database};Pooling=false";
            try
            {
                await using var connection = new NpgsqlConnection(text);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(
                    "select r.id, c.episode, r.episodes_done, r.episodes_total from mannlab.runs r join mannlab.checkpoints c on c.run_id = r.id", connection);
                await using var rows = await command.ExecuteReaderAsync();
                if (!await rows.ReadAsync()) return false;
                var (run, checkpoint, done, total) = (rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2), rows.GetInt64(3));
                if (checkpoint >= total) throw new InvalidOperationException("the run finished before the strike: give it more episodes");
                if (done <= checkpoint + 10 * batch || done >= checkpoint + every / 2) return false;
                found = (run, checkpoint, server.Port);
                return true;
            }
            catch (NpgsqlException)
            {
                return false; // not migrated yet
            }
        }, "the run to checkpoint and record past its checkpoint", output);
        return found!.Value;
    }

    private Process Start(StringBuilder output, params string[] command)
    {
        var start = command[0] == "up" ? Mannlab.Start(_home.Path, Environment, command) : Command.StartInfo(command);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private static string Read(StringBuilder output)
    {
        lock (output) return output.ToString();
    }

    /// <summary>Polls until <paramref name="done"/>; the limit only keeps a broken build from hanging CI.</summary>
    private static async Task Until(Func<Task<bool>> done, string what, StringBuilder output)
    {
        var limit = DateTime.UtcNow.AddMinutes(4);
        while (!await done())
        {
            if (DateTime.UtcNow > limit) throw new TimeoutException($"still waiting for {what}:\n{Read(output)}");
            await Task.Delay(100);
        }
    }

    private static Task Until(Func<bool> done, string what, StringBuilder output) => Until(() => Task.FromResult(done()), what, output);

    private static async Task<List<T>> Column<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var rows = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await rows.ReadAsync()) values.Add(rows.GetFieldValue<T>(0));
        return values;
    }
}
