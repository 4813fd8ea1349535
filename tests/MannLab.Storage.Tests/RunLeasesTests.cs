using MannLab.Runs;
using MannLab.Spec;
using MannLab.Storage;
using Task = System.Threading.Tasks.Task;

namespace MannLab.Storage.Tests;

[Collection(PostgresCollection.Name)]
public class RunLeasesTests(PostgresFixture pg)
{
    private async Task<string> Register(string name)
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var experiment = Experiments.parse(name + ".yaml", $"name: {name}\nmodel: {{kind: lstm}}\n").ResultValue;
        await new RunStore(pg.DataSource).RegisterAsync(experiment);
        return experiment.Runs.Head.Id;
    }

    [Fact]
    public async Task Only_one_worker_holds_a_run_until_its_lease_runs_out_and_then_the_next_one_takes_over()
    {
        var run = await Register("leased");
        var leases = new RunLeases(pg.DataSource);
        var lease = TimeSpan.FromSeconds(2);

        var first = await leases.TryAcquireAsync(run, "worker-a", lease, "1");
        var second = await leases.TryAcquireAsync(run, "worker-b", lease, "1");

        first.Should().Be(new LeaseResult.Acquired(1, 0));
        second.Should().BeOfType<LeaseResult.HeldBy>().Which.Worker.Should().Be("worker-a");
        (await leases.RenewAsync(run, "worker-a", lease)).Should().BeFalse("renewed, and no cancellation asked for");
        (await leases.RenewAsync(run, "worker-b", lease)).Should().BeNull("worker-b holds nothing");

        // worker-a stops renewing (it died): once its lease is over, worker-b takes the run.
        await Task.Delay(lease + TimeSpan.FromMilliseconds(500));
        (await leases.TryAcquireAsync(run, "worker-b", lease, "2")).Should().Be(new LeaseResult.Acquired(2, 0));
        (await leases.RenewAsync(run, "worker-a", lease)).Should().BeNull("worker-a lost the run");
        (await pg.Scalar<string>($"select string_agg(attempt || ':' || worker || ':' || coalesce(outcome, 'open'), ' ' order by attempt) from mannlab.run_attempts where run_id = '{run}'"))
            .Should().Be("1:worker-a:lost 2:worker-b:open");
    }

    [Fact]
    public async Task A_cancellation_reaches_the_worker_through_its_heartbeat_and_a_finished_run_is_not_leased_again()
    {
        var run = await Register("cancelled-lease");
        var leases = new RunLeases(pg.DataSource);
        var lease = TimeSpan.FromMinutes(1);
        await leases.TryAcquireAsync(run, "worker-a", lease, null);

        var requested = await leases.RequestCancelAsync(run);

        requested.Should().Be(("running", (string?)null), "a run being trained is stopped by its worker, not here");
        (await leases.RenewAsync(run, "worker-a", lease)).Should().BeTrue();
        await leases.ReleaseAsync(run, "worker-a", 1, "cancelled", "cancelled", null);
        (await leases.TryAcquireAsync(run, "worker-b", lease, null)).Should().Be(new LeaseResult.NothingToDo("cancelled"));
        (await pg.Scalar<string>($"select status from mannlab.runs where id = '{run}'")).Should().Be("cancelled");
    }

    [Fact]
    public async Task An_unfinished_run_without_a_live_job_or_lease_is_an_orphan()
    {
        var run = await Register("orphan");
        var leases = new RunLeases(pg.DataSource);

        (await leases.OrphansAsync(jobs => jobs.ToHashSet())).Select(o => o.Id).Should().Contain(run, "it has no job yet");
        await leases.AssignJobAsync(run, "42");
        (await leases.OrphansAsync(jobs => jobs.Where(j => j == "42").ToHashSet())).Select(o => o.Id).Should().NotContain(run, "its job is pending");
        (await leases.OrphansAsync(_ => new HashSet<string>())).Select(o => o.Id).Should().Contain(run, "its job is gone");
    }

    private Task<T?> Of<T>(string run, string column) => pg.Scalar<T>($"select {column} from mannlab.runs where id = '{run}'");

    [Fact]
    public async Task A_run_waits_only_while_no_worker_holds_it_and_is_queued_again_when_woken()
    {
        var (held, free) = (await Register("waiting-held"), await Register("waiting-free"));
        var leases = new RunLeases(pg.DataSource);
        await leases.TryAcquireAsync(held, "worker-a", TimeSpan.FromMinutes(1), null);

        (await leases.MarkWaitingAsync(held, "waiting for Omniglot")).Should().BeFalse("a worker holds it: a duplicate job without the data must not park it");
        (await leases.MarkWaitingAsync(free, "waiting for Omniglot; run `./mannlab data fetch omniglot`")).Should().BeTrue();

        (await Of<string>(held, "status")).Should().Be(RunStatus.Running);
        (await Of<string>(free, "status")).Should().Be(RunStatus.Waiting);
        (await Of<string>(free, "wait_reason")).Should().Contain("data fetch omniglot");
        (await leases.TryAcquireAsync(free, "worker-b", TimeSpan.FromMinutes(1), null)).Should().Be(new LeaseResult.NothingToDo(RunStatus.Waiting));
        (await leases.OrphansAsync(jobs => jobs.ToHashSet())).Select(o => o.Id).Should().NotContain(free, "a waiting run gets no job");
        (await leases.WaitingAsync()).Select(w => w.Id).Should().Contain(free).And.NotContain(held);

        (await leases.WakeAsync([free, held])).Should().Equal(free);
        (await Of<string>(free, "status")).Should().Be(RunStatus.Queued);
        (await Of<string>(free, "wait_reason")).Should().BeNull();
        (await leases.TryAcquireAsync(free, "worker-b", TimeSpan.FromMinutes(1), null)).Should().BeOfType<LeaseResult.Acquired>();
    }

    [Fact]
    public async Task A_waiting_run_is_cancelled_at_once()
    {
        var run = await Register("waiting-cancelled");
        var leases = new RunLeases(pg.DataSource);
        await leases.MarkWaitingAsync(run, "waiting for Omniglot");

        (await leases.RequestCancelAsync(run)).Should().Be((RunStatus.Cancelled, (string?)null));
    }

    [Fact]
    public async Task The_final_status_is_the_one_the_worker_releases_with()
    {
        var run = await Register("released");
        var leases = new RunLeases(pg.DataSource);
        await leases.TryAcquireAsync(run, "worker-a", TimeSpan.FromMinutes(1), null);

        await leases.ReleaseAsync(run, "worker-a", 1, "failed", RunStatus.Failed, "NaN loss at episode 320");

        (await Of<string>(run, "status")).Should().Be(RunStatus.Failed);
        (await Of<string>(run, "error")).Should().Be("NaN loss at episode 320");
        (await Of<DateTime?>(run, "finished_at")).Should().NotBeNull();
        (await pg.Scalar<string>($"select outcome || ': ' || error from mannlab.run_attempts where run_id = '{run}'")).Should().Be("failed: NaN loss at episode 320");
    }

    [Fact]
    public async Task Retrying_queues_a_failed_cancelled_or_interrupted_run_as_a_new_attempt_and_nothing_else()
    {
        var run = await Register("retried");
        var leases = new RunLeases(pg.DataSource);
        var lease = TimeSpan.FromMinutes(1);
        // Three attempts whose training process crashed, the last of which failed the run.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await leases.TryAcquireAsync(run, "worker-a", lease, null);
            await leases.ReleaseAsync(run, "worker-a", attempt, AttemptOutcome.Crashed, attempt < 3 ? RunStatus.Interrupted : RunStatus.Failed, "exited with code 139");
        }
        (await leases.CrashCountAsync(run)).Should().Be(3);
        (await leases.RetryAsync("no-such-run", null)).Should().BeNull();

        var retried = await leases.RetryAsync(run, "77");

        retried.Should().Be(new RetryResult.Queued(RunStatus.Failed, 4, null));
        retried!.ToString().Should().Contain("attempt 4").And.Contain("from the start");
        (await Of<string>(run, "status")).Should().Be(RunStatus.Queued);
        (await Of<string>(run, "job_id")).Should().Be("77", "a requeued job brings itself");
        (await Of<string>(run, "error")).Should().BeNull();
        (await Of<DateTime?>(run, "finished_at")).Should().BeNull();
        (await leases.CrashCountAsync(run)).Should().Be(0, "crashes before the retry no longer count against it");
        (await leases.RetryAsync(run, null)).Should().Be(new RetryResult.NotRetryable(RunStatus.Queued), "asking twice queues it once");

        (await leases.TryAcquireAsync(run, "worker-b", lease, null)).Should().Be(new LeaseResult.Acquired(4, 0));
        (await leases.RetryAsync(run, null)).Should().Be(new RetryResult.NotRetryable(RunStatus.Running));
        await leases.RequestCancelAsync(run);
        await leases.ReleaseAsync(run, "worker-b", 4, "cancelled", RunStatus.Cancelled, null);
        (await leases.RetryAsync(run, null)).Should().Be(new RetryResult.Queued(RunStatus.Cancelled, 5, null));
        (await Of<bool>(run, "cancel_requested")).Should().BeFalse("a retried run is no longer being cancelled");

        await leases.TryAcquireAsync(run, "worker-b", lease, null);
        await leases.ReleaseAsync(run, "worker-b", 5, AttemptOutcome.Succeeded, RunStatus.Succeeded, null);
        (await leases.RetryAsync(run, null)).Should().Be(new RetryResult.NotRetryable(RunStatus.Succeeded));
        (await Of<string>(run, "status")).Should().Be(RunStatus.Succeeded);
    }
}
