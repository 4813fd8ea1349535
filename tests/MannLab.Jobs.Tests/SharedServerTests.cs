using System.Text.RegularExpressions;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs.Tests;

/// <summary>
/// `mannlab up --listen`: MannLab's own PostgreSQL shared with another machine, here a network
/// namespace the test creates, with a home of its own and nothing but TCP to the host.
/// </summary>
public sealed class SharedServerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_worker_on_another_machine_trains_a_queued_run_through_the_shared_server()
    {
        await using var machine = await NetworkNamespace.CreateAsync();
        using var lab = new EmbeddedLab(leaseSeconds: 30);
        using var elsewhere = new TempFolder();
        lab.Home.Write("experiments/shared.yaml", JobsHarness.Spec("shared", 640, 320, 320));
        // The host's own worker serves the gpu queue only: the cpu run is the other machine's to train.
        var up = lab.Start(["up", "--experiments", "experiments", "--queues", "gpu", "--workers", "1", "--port", "0",
            "--listen", $"{machine.HostAddress}:{machine.FreeHostPort()}"]);
        var uri = await Joining(lab, up);

        var worker = lab.StartIn(machine, elsewhere.Path, "worker", "--db", uri, "--workers", "1");
        await using var db = Local(lab);
        await lab.Until(async () => await EmbeddedLab.Column<string>(db, "select status from mannlab.runs") is ["succeeded"], "the other machine to train the run");

        var run = (await EmbeddedLab.Column<string>(db, "select id from mannlab.runs")).Single();
        (await EmbeddedLab.Column<string>(db, "select distinct host(client_addr) from pg_stat_activity where usename = 'mannlab' and client_addr is not null and client_addr <> '127.0.0.1'"))
            .Should().Equal([machine.NamespaceAddress.ToString()], "the worker reaches the server over the pair, from the namespace's address");
        var name = $"{Environment.MachineName}:{worker.Id}"; // `ip netns exec` execs the worker: its pid is the process started
        (await EmbeddedLab.Column<string>(db, "select worker from mannlab.run_attempts")).Should().ContainSingle().Which.Should().StartWith(name + ":");
        (await EmbeddedLab.Column<long>(db, $"select episode from mannlab.checkpoints where run_id = '{run}' and length(bytes) > 0"))
            .Should().Equal([640L], "its checkpoint reached the database");
        (await EmbeddedLab.Column<long>(db, $"select count(*) from mannlab.metrics where run_id = '{run}' and name = 'eval_acc_2'")).Should().Equal(2L);
        File.Exists(Path.Combine(elsewhere.Path, ".mannlab", "work", run, "checkpoint.bin")).Should().BeTrue("the worker keeps its runs on its own machine");
        Directory.Exists(Path.Combine(lab.Home.Path, ".mannlab", "work", run)).Should().BeFalse("the host never trained it");
        lab.Output.Should().Contain($"its runs' checkpoints and logs go to {Path.Combine(elsewhere.Path, ".mannlab", "work")}/RUN on this machine");

        var listed = lab.Run("runs", "--worker", name);
        listed.ExitCode.Should().Be(0, listed.Err);
        listed.Out.Should().Contain(run).And.Contain("succeeded").And.Contain(name);
        lab.Run("runs", "--worker", "no-such-machine").Out.Should().Contain("no runs trained by worker no-such-machine");

        // The host's pages show what the other machine recorded.
        var pages = Regex.Match(lab.Output, @"pages: (http://127\.0\.0\.1:\d+)/").Groups[1].Value;
        using var http = new HttpClient();
        var page = await http.GetStringAsync($"{pages}/runs/{run}");
        page.Should().Contain("succeeded").And.Contain(name);
    }

    [Fact]
    public async Task The_shared_server_asks_other_machines_for_the_password_and_lets_in_only_the_allowed_network()
    {
        await using var machine = await NetworkNamespace.CreateAsync();
        using var lab = new EmbeddedLab();
        lab.Home.Write("experiments/.keep", "");
        var address = $"{machine.HostAddress}:{machine.FreeHostPort()}";
        var up = lab.Start(["up", "--experiments", "experiments", "--workers", "1", "--port", "0", "--listen", address]);
        var uri = await Joining(lab, up);
        var wrong = Regex.Replace(uri, "mannlab:[^@]+@", "mannlab:not-the-password@");

        (await Psql(machine, uri)).Out.Trim().Should().Be("1", "the printed address lets the other machine in");
        (await Psql(machine, wrong)).Err.Should().Contain("password authentication failed for user \"mannlab\"");
        (await Psql(machine, Regex.Replace(uri, "mannlab:[^@]+@", "mannlab@"))).Succeeded.Should().BeFalse("no password, no entry");
        var local = await Command.RunAsync(Bound, Path.Combine(EmbeddedPostgres.FindBinaries(), "psql"), "-h", "127.0.0.1", "-p",
            $"{ServerLock.Running(lab.Cluster)!.Port}", "-U", "mannlab", "-d", "mannlab", "-w", "-tAc", "select 1");
        local.Out.Trim().Should().Be("1", "on 127.0.0.1 nothing changes: no password" + local.Err);
        var passwordFile = Path.Combine(lab.Home.Path, ".mannlab", "postgres-password");
        OperatingSystem.IsLinux().Should().BeTrue("MannLab runs on Linux");
        if (OperatingSystem.IsLinux()) File.GetUnixFileMode(passwordFile).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "the password is its owner's alone");
        uri.Should().Contain(File.ReadAllText(passwordFile).Trim());

        // Again, letting in only the host's end of the pair: the namespace's address is not allowed.
        await Stop(lab, up);
        var again = lab.Start(["up", "--experiments", "experiments", "--workers", "1", "--port", "0", "--listen", address, "--allow", $"{machine.HostAddress}/32"]);
        (await Joining(lab, again)).Should().Be(uri, "the password stays from start to start, so the workers' command keeps working");
        (await Psql(machine, uri)).Err.Should().Contain($"no pg_hba.conf entry for host \"{machine.NamespaceAddress}\"");
        await Stop(lab, again);
    }

    [Fact]
    public async Task A_second_up_joins_a_server_shared_as_it_asks_and_starts_nothing_on_one_running_otherwise()
    {
        await using var machine = await NetworkNamespace.CreateAsync();
        using var lab = new EmbeddedLab();
        lab.Home.Write("experiments/.keep", "");
        var address = $"{machine.HostAddress}:{machine.FreeHostPort()}";
        string[] Up(params string[] more) => ["up", "--experiments", "experiments", "--workers", "1", "--port", "0", "--listen", address, .. more];

        // Running for 127.0.0.1 only, for a worker: sharing it would need a restart under the worker.
        var worker = lab.Start(["worker", "--workers", "1"]);
        await lab.Until(() => lab.Output.Contains("slot(s) on queues"), "the worker to start the server");
        var port = ServerLock.Running(lab.Cluster)!.Port;
        var refused = lab.Run(Up());
        refused.ExitCode.Should().Be(1);
        refused.Err.Should().Contain($"MannLab's PostgreSQL already runs on port {port}, not listening on {address} for clients from {machine.Network}");
        ServerLock.Running(lab.Cluster)!.Port.Should().Be(port, "the worker's server was left as it was");
        await Stop(lab, worker);

        // Shared by one up: a second up asking the same joins it, and prints the same command.
        var first = lab.Start(Up());
        var uri = await Joining(lab, first);
        var second = lab.Start(Up());
        (await Joining(lab, second)).Should().Be(uri);
        lab.Output.Should().Contain($"using the PostgreSQL already running on port {address.Split(':')[1]}");
        // One asking to let in other clients would change what the first one shares: refused.
        var narrower = lab.Run(Up("--allow", $"{machine.HostAddress}/32"));
        narrower.ExitCode.Should().Be(1);
        narrower.Err.Should().Contain($"not listening on {address} for clients from {machine.HostAddress}/32");
        (await Psql(machine, uri)).Out.Trim().Should().Be("1", "the namespace is still let in, as the first up shares it");
        await Stop(lab, second);
        await Stop(lab, first);
    }

    [Fact]
    public async Task When_the_other_machine_dies_the_hosts_worker_resumes_its_run_from_the_checkpoint_in_the_database()
    {
        var machine = await NetworkNamespace.CreateAsync();
        await using var _ = machine;
        using var lab = new EmbeddedLab();
        using var elsewhere = new TempFolder();
        var (run, checkpoint, straight) = await TrainElsewhere(lab, machine, elsewhere, "death");

        await machine.KillAllAsync();
        await machine.DisposeAsync();
        File.Exists(Path.Combine(lab.Home.Path, ".mannlab", "work", run, "checkpoint.bin")).Should().BeFalse("the host never had the checkpoint file");
        var host = lab.Start(["worker", "--workers", "1"]);

        await using var db = Local(lab);
        await lab.Until(async () => await EmbeddedLab.Column<string>(db, "select status from mannlab.runs") is ["succeeded"], "the host's worker to finish the run");
        (await EmbeddedLab.Column<string>(db, "select worker from mannlab.run_attempts order by attempt")).Should().SatisfyRespectively(
            first => first.Should().StartWith(Elsewhere(lab)), second => second.Should().StartWith($"{Environment.MachineName}:{host.Id}:"));
        (await EmbeddedLab.Column<long>(db, "select from_episode from mannlab.run_attempts where attempt = 2")).Should().Equal(checkpoint);
        await SameAsUninterrupted(db, run, straight);
    }

    [Fact]
    public async Task Across_a_partition_longer_than_the_lease_one_side_trains_and_the_stale_worker_records_nothing_more()
    {
        await using var machine = await NetworkNamespace.CreateAsync();
        using var lab = new EmbeddedLab();
        using var elsewhere = new TempFolder();
        var (run, checkpoint, straight) = await TrainElsewhere(lab, machine, elsewhere, "partition");

        await machine.SetLinkAsync(up: false);
        var host = lab.Start(["worker", "--workers", "1"]);
        await using var db = Local(lab);
        await lab.Until(async () => await EmbeddedLab.Column<int>(db, "select attempt from mannlab.runs") is [2], "the host's worker to take the run over");
        var stale = Elsewhere(lab);
        lab.Output.Should().Contain("stopping at a checkpoint until it is back", "the other side stopped before its lease ran out");
        await Task.Delay(TimeSpan.FromSeconds(5));
        await machine.SetLinkAsync(up: true);

        await lab.Until(async () => await EmbeddedLab.Column<string>(db, "select status from mannlab.runs") is ["succeeded"], "the host's worker to finish the run");
        // Attempt 1 ends 'lost' (the host's worker took the run over) or 'interrupted' (the stale worker
        // recorded its stop first, once back); either way nothing else of it: its held records were refused.
        await lab.Until(async () => await EmbeddedLab.Column<string>(db, "select outcome from mannlab.run_attempts where attempt = 1") is [not null],
            "attempt 1 to be recorded as ended");
        var attempts = await EmbeddedLab.Column<string>(db, "select attempt || ' ' || worker || ' from ' || from_episode || ' ' || coalesce(outcome, '-') from mannlab.run_attempts order by attempt");
        attempts.Should().HaveCount(2, $"one attempt a side, whatever the load; the attempts were\n{string.Join("\n", attempts)}\nand the processes printed\n{lab.Output}");
        (await EmbeddedLab.Column<string>(db, "select worker || ' ' || outcome from mannlab.run_attempts order by attempt")).Should().SatisfyRespectively(
            first => first.Should().StartWith(stale).And.Match(o => o.EndsWith(" lost") || o.EndsWith(" interrupted")),
            second => second.Should().StartWith($"{Environment.MachineName}:{host.Id}:").And.EndWith(" succeeded"));
        (await EmbeddedLab.Column<long>(db, "select from_episode from mannlab.run_attempts where attempt = 2")).Should().Equal(checkpoint);
        // The stale side learns it lost the lease when its first call gets through, which can be after
        // the host's worker has finished the run (a connect sent while the link was down waits out TCP's
        // retries). Either its training process's held writes are refused, or the lease renewal that
        // was under way comes back refused and the worker kills that process before it writes.
        var staleLog = Path.Combine(elsewhere.Path, ".mannlab", "work", run, "attempt-1.log");
        var killed = $"run {run}: lease lost; stopped training";
        await lab.Until(() => File.ReadAllText(staleLog).Contains("are not written") || lab.Output.Contains(killed),
            "the stale worker to find the run leased to the host's");
        if (!lab.Output.Contains(killed))
            File.ReadAllText(staleLog).Should().Contain($"is leased to {Environment.MachineName}:{host.Id}:", "what it held when the link came back was refused");
        await Task.Delay(TimeSpan.FromSeconds(3)); // time for anything stale to arrive, were it let in
        (await EmbeddedLab.Column<long>(db, "select count(*) from mannlab.run_attempts")).Should().Equal([2L], "the stale worker did not take the run up again");
        await SameAsUninterrupted(db, run, straight);
    }

    /// <summary>
    /// Shares the lab's server on the pair, has a worker in <paramref name="machine"/> train a
    /// run until it has checkpointed and recorded past that checkpoint, and trains the same spec
    /// uninterrupted beside it; the host's `up` serves no cpu run. The run, its checkpoint then, and the uninterrupted run's folder.
    /// </summary>
    private static async Task<(string Run, long Checkpoint, string Straight)> TrainElsewhere(EmbeddedLab lab, NetworkNamespace machine, TempFolder elsewhere, string name)
    {
        const int episodes = 64000, every = 12800, batch = 16;
        var spec = lab.Home.Write($"experiments/{name}.yaml", JobsHarness.Spec(name, episodes, every, every));
        var straight = lab.Home.Sub("straight");
        var train = lab.Run("train", spec, "--out", straight);
        train.ExitCode.Should().Be(0, train.Err);
        var up = lab.Start(["up", "--experiments", "experiments", "--queues", "gpu", "--workers", "1", "--port", "0",
            "--listen", $"{machine.HostAddress}:{machine.FreeHostPort()}"]);
        lab.StartIn(machine, elsewhere.Path, "worker", "--db", await Joining(lab, up), "--workers", "1");
        var (run, checkpoint, _) = await lab.UntilStranded(up, every, batch);
        return (run, checkpoint, straight);
    }

    /// <summary>The name the other machine's worker gives its attempts, from what it printed.</summary>
    private static string Elsewhere(EmbeddedLab lab) => Regex.Match(lab.Output, @"worker (\S+:\d+): 1 slot\(s\) on queues cpu; its runs' checkpoints and logs go to /tmp/").Groups[1].Value + ":";

    private static async Task SameAsUninterrupted(NpgsqlDataSource db, string run, string straight)
    {
        var expected = RunRecord.MetricsOf(straight);
        expected.Should().Contain(m => m.Contains(" eval_acc_2 "));
        (await RunRecord.MetricsOf(db, run)).Should().Equal(expected, "every metric at every step, to the last bit, none missing and none twice");
        (await RunRecord.InstancesOf(db, run)).Should().Equal(RunRecord.InstancesOf(straight));
    }

    [Theory]
    [InlineData("127.0.0.1", null, "the server always listens on 127.0.0.1")]
    [InlineData("198.18.0.1:99999", null, "the port must be a number from 1 to 65535")]
    [InlineData("no-address", null, "expected an IPv4 address of this machine")]
    [InlineData("0.0.0.0", null, "listening on every address needs --allow NETWORK")]
    [InlineData("198.18.0.1", "nowhere", "--allow nowhere: expected an IPv4 network")]
    public void A_listen_address_that_cannot_work_is_refused_before_anything_starts(string listen, string? allow, string message)
    {
        using var lab = new EmbeddedLab();
        lab.Home.Write("experiments/.keep", "");

        var result = lab.Run(["up", "--experiments", "experiments", "--port", "0", "--listen", listen, .. allow is null ? Array.Empty<string>() : ["--allow", allow]]);

        result.ExitCode.Should().Be(1);
        result.Err.Should().Contain(message);
        Directory.Exists(lab.Cluster).Should().BeFalse("nothing was started");
    }

    /// <summary>The `mannlab worker --db` address that `up` prints for other machines.</summary>
    private static async Task<string> Joining(EmbeddedLab lab, System.Diagnostics.Process up)
    {
        var line = new Regex("another machine joins with: mannlab worker --db '([^']+)'");
        var seen = lab.Output.Length;
        await lab.Until(() => up.HasExited || line.Matches(lab.Output[seen..]).Count > 0, "up to print how another machine joins");
        up.HasExited.Should().BeFalse(lab.Output);
        return line.Matches(lab.Output[seen..])[0].Groups[1].Value;
    }

    /// <summary>Stops `up` as a service manager would. Not SIGINT: a shell's background jobs ignore it, and so then does all they start.</summary>
    private static async Task Stop(EmbeddedLab lab, System.Diagnostics.Process up)
    {
        (await Command.RunAsync(Bound, "kill", "-TERM", $"{up.Id}")).Succeeded.Should().BeTrue();
        await lab.Exited(up, "up to stop");
    }

    /// <summary>`select 1` on <paramref name="uri"/> by psql from inside <paramref name="machine"/>.</summary>
    internal static Task<Command.Result> Psql(NetworkNamespace machine, string uri)
    {
        var psql = machine.StartInfo(Path.Combine(EmbeddedPostgres.FindBinaries(), "psql"), uri, "-w", "-tAc", "select 1");
        psql.Environment["PGCONNECT_TIMEOUT"] = "20";
        return Command.RunAsync(psql, Bound);
    }

    /// <summary>The server on 127.0.0.1, as this machine reaches it: no password.</summary>
    private static NpgsqlDataSource Local(EmbeddedLab lab) =>
        NpgsqlDataSource.Create($"Host=127.0.0.1;Port={ServerLock.Running(lab.Cluster)!.Port};Username={EmbeddedPostgres.User};Database={EmbeddedPostgres.Database}");
}
