using System.Diagnostics;
using Hangfire;
using Hangfire.States;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Jobs.Tests;

[Collection(PostgresCollection.Name)]
public sealed class QueueAndWorkerTests(PostgresFixture pg) : IDisposable
{
    private readonly JobsHarness _lab = new(pg);

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task A_sweep_becomes_one_run_per_point_and_every_run_succeeds_and_reads_through_the_views()
    {
        var experiment = await _lab.Submit("sweep.yaml", JobsHarness.Spec("sweep", 320, 160, 160,
            "sweep: {training.seed: [1, 2], model: [{kind: lstm, hidden: 16}, {kind: feedforward, hidden: 16}]}"));
        experiment.Runs.Length.Should().Be(4);

        using (_lab.Jobs.StartWorkers(["cpu"], 2))
            await _lab.Until(() => _lab.AllFinished(4), "the sweep's runs to finish");

        var runs = await _lab.Jobs.Queries.ListAsync("sweep");
        runs.Select(r => r.Status).Should().AllBe("succeeded");
        runs.Select(r => r.Id).Should().BeEquivalentTo(experiment.Runs.Select(r => r.Id));
        (await _lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(4, "each run was trained once");
        (await _lab.Scalar<long>("select count(distinct run_id) from mannlab.sweep_results where instance = 2")).Should().Be(4);
        var byModel = await _lab.Column<long>("select runs from mannlab.accuracy_by_model where split = 'test' and instance = 2 order by model");
        byModel.Should().Equal(2, 2); // feedforward and lstm, each averaged over its two seeds
        (await _lab.Scalar<long>("select count(*) from mannlab.runs where host is null or cpu is null or mannlab_version is null"))
            .Should().Be(0, "every run records where and with what it was trained");
        (await _lab.Scalar<long>("select count(*) from mannlab.checkpoints where bytes is not null")).Should().Be(4);
    }

    [Fact]
    public async Task Two_worker_processes_share_a_queue_of_20_runs_and_train_each_exactly_once()
    {
        await _lab.Submit("twenty.yaml", JobsHarness.Spec("twenty", 48, 48, 48,
            "sweep: {training.seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]}"));

        var first = _lab.Start("worker", "--workers", "1");
        var second = _lab.Start("worker", "--workers", "1");
        await _lab.Until(() => _lab.AllFinished(20), "20 runs to finish on two workers");

        (await _lab.Jobs.Queries.ListAsync()).Select(r => r.Status).Should().AllBe("succeeded");
        var attempts = await _lab.Column<string>("select run_id || ' ' || attempt || ' ' || outcome from mannlab.run_attempts order by run_id");
        attempts.Should().HaveCount(20).And.OnlyContain(a => a.EndsWith(" 1 succeeded"), "every run was trained once, in one attempt");
        var pids = (await _lab.Column<string>("select worker from mannlab.run_attempts")).Select(w => int.Parse(w.Split(':')[1])).ToList();
        pids.Distinct().Should().BeEquivalentTo([first.Id, second.Id], "both workers got work");
        // Each run evaluated once, at its end (48 episodes), and that evaluation was recorded once.
        (await _lab.Scalar<long>("select count(*) from mannlab.metrics where name = 'eval_acc_2'")).Should().Be(20);
    }

    [Fact]
    public async Task A_worker_killed_with_SIGKILL_mid_run_is_resumed_from_its_checkpoint_with_no_duplicate_or_missing_metric()
    {
        const int episodes = 32000, evalEvery = 6400, checkpointEvery = 3200, batch = 16;
        var run = (await _lab.Submit("long.yaml", JobsHarness.Spec("long", episodes, evalEvery, checkpointEvery))).Runs.Head.Id;

        var doomed = _lab.Start("worker", "--workers", "1");
        await _lab.Until(async () => await _lab.Scalar<long>("select coalesce(max(episode), 0) from mannlab.checkpoints") >= checkpointEvery &&
                                     await _lab.Scalar<long>("select episodes_done from mannlab.runs") > checkpointEvery + 10 * batch,
            "the run to checkpoint and record metrics past its checkpoint");
        doomed.Kill(entireProcessTree: true); // SIGKILL to the worker and its training process
        await doomed.WaitForExitAsync();
        var stranded = await _lab.Scalar<long>("select max(step) from mannlab.metrics");
        var checkpoint = await _lab.Scalar<long>("select episode from mannlab.checkpoints");
        stranded.Should().BeGreaterThan(checkpoint, "the killed run recorded metrics its checkpoint does not cover");

        _lab.Start("worker", "--workers", "1");
        await _lab.Until(() => _lab.AllFinished(1), "the run to be resumed and finish");

        (await _lab.Scalar<string>("select status from mannlab.runs")).Should().Be("succeeded");
        var attempts = await _lab.Column<string>("select attempt || ' ' || outcome || ' ' || from_episode from mannlab.run_attempts order by attempt");
        attempts.Should().HaveCount(2);
        attempts[0].Should().StartWith("1 lost ");
        attempts[1].Should().StartWith("2 succeeded ");
        long.Parse(attempts[1].Split(' ')[2]).Should().BeGreaterThanOrEqualTo(checkpointEvery, "the second attempt resumed, it did not start over");

        // Exactly the training windows and evaluations an uninterrupted run records: no gaps, no
        // duplicates, nothing left over from past the checkpoint.
        static bool Crossed(long e, long every) => e / every > (e - batch) / every;
        var expected = Enumerable.Range(1, episodes / batch).Select(i => (long)i * batch)
            .Where(e => e / batch % 10 == 0 || Crossed(e, evalEvery) || Crossed(e, checkpointEvery) || e == episodes).ToList();
        (await _lab.Column<long>("select step from mannlab.metrics where run_id = @run and name = 'train_loss' order by step", ("run", run)))
            .Should().Equal(expected);
        (await _lab.Column<long>("select step from mannlab.metrics where name = 'eval_acc_2' order by step"))
            .Should().Equal(Enumerable.Range(1, episodes / evalEvery).Select(i => (long)i * evalEvery));
        (await _lab.Scalar<long>("select count(*) from mannlab.instance_accuracy where split = 'test'")).Should().Be(episodes / evalEvery * 2);
    }

    [Fact]
    public async Task Cancelling_a_running_run_checkpoints_it_and_records_it_as_cancelled()
    {
        var run = (await _lab.Submit("cancel.yaml", JobsHarness.Spec("cancel", 400000, 400000, 1600))).Runs.Head.Id;
        using var workers = _lab.Jobs.StartWorkers(["cpu"], 1);
        await _lab.Until(async () => await _lab.Scalar<long>("select coalesce(max(episode), 0) from mannlab.checkpoints") > 0, "a first checkpoint");

        var cancel = _lab.Run("cancel", run[..6]);

        cancel.ExitCode.Should().Be(0, cancel.Err);
        cancel.Out.Should().Contain($"run {run}: stopping");
        await _lab.Until(async () => await _lab.Scalar<string>("select status from mannlab.runs") == "cancelled", "the run to be cancelled");
        var stoppedAt = await _lab.Scalar<long>("select episodes_done from mannlab.runs");
        (await _lab.Scalar<long>("select episode from mannlab.checkpoints")).Should().Be(stoppedAt, "it checkpointed where it stopped");
        (await _lab.Scalar<string>("select outcome from mannlab.run_attempts")).Should().Be("cancelled");
        stoppedAt.Should().BeLessThan(400000);
        await Task.Delay(TimeSpan.FromSeconds(3)); // recovery passes come and go: a cancelled run stays cancelled
        (await _lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(1);
    }

    [Fact]
    public async Task A_second_job_for_a_run_being_trained_ends_at_once_and_trains_nothing()
    {
        var run = (await _lab.Submit("twice.yaml", JobsHarness.Spec("twice", 400000, 400000, 1600))).Runs.Head.Id;
        using var workers = _lab.Jobs.StartWorkers(["cpu"], 2);
        await _lab.Until(async () => await _lab.Scalar<long>("select episodes_done from mannlab.runs") > 0, "training to start");

        // What Hangfire does when it hands a job out twice, or recovery enqueues a run again.
        var duplicate = new BackgroundJobClient(_lab.Jobs.Storage).Create<RunJob>(job => job.Train(run, null, CancellationToken.None), new EnqueuedState("cpu"));
        using var connection = _lab.Jobs.Storage.GetConnection();
        await _lab.Until(() => Task.FromResult(connection.GetStateData(duplicate)?.Name == SucceededState.StateName), "the duplicate job to end");

        (await _lab.Scalar<string>("select status from mannlab.runs")).Should().Be("running");
        (await _lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(1, "the duplicate did not train");
        await _lab.Jobs.CancelAsync(run);
        await _lab.Until(async () => await _lab.Scalar<string>("select status from mannlab.runs") == "cancelled", "the run to stop");
    }

    [Fact]
    public async Task Deleting_a_runs_job_in_the_dashboard_cancels_the_run()
    {
        await _lab.Submit("deleted.yaml", JobsHarness.Spec("deleted", 400000, 400000, 1600));
        using var workers = _lab.Jobs.StartWorkers(["cpu"], 1);
        await _lab.Until(async () => await _lab.Scalar<long>("select episodes_done from mannlab.runs") > 0, "training to start");

        new BackgroundJobClient(_lab.Jobs.Storage).Delete((await _lab.Scalar<string>("select job_id from mannlab.runs"))!);

        await _lab.Until(async () => await _lab.Scalar<string>("select status from mannlab.runs") == "cancelled", "the run to be cancelled");
        (await _lab.Scalar<string>("select outcome from mannlab.run_attempts")).Should().Be("cancelled");
    }

    [Fact]
    public async Task Cancelling_a_queued_run_takes_it_out_of_its_queue()
    {
        var run = (await _lab.Submit("queued.yaml", JobsHarness.Spec("queued", 320, 160, 160))).Runs.Head.Id;
        var job = (await _lab.Scalar<string>("select job_id from mannlab.runs"))!;
        QueueStorage.IsPending(_lab.Db, job).Should().BeTrue();

        (await _lab.Jobs.CancelAsync(run)).Should().Be("cancelled");

        QueueStorage.IsPending(_lab.Db, job).Should().BeFalse();
        using var connection = _lab.Jobs.Storage.GetConnection();
        connection.GetStateData(job).Name.Should().Be(DeletedState.StateName);
        using (_lab.Jobs.StartWorkers(["cpu"], 1)) await Task.Delay(TimeSpan.FromSeconds(3));
        (await _lab.Scalar<string>("select status from mannlab.runs")).Should().Be("cancelled");
        (await _lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(0, "nobody trained it");
    }

    [Fact]
    public async Task Submitting_with_one_invalid_file_queues_nothing_and_names_the_place()
    {
        _lab.Home.Write("good.yaml", JobsHarness.Spec("good", 320, 160, 160));
        _lab.Home.Write("bad.yaml", JobsHarness.Spec("bad", 320, 160, 160).Replace("lr: 3e-3", "lr: fast"));

        var result = _lab.Run("submit", "good.yaml", "bad.yaml");

        result.ExitCode.Should().Be(1);
        result.Err.Should().MatchRegex(@"bad\.yaml:\d+:\d+: error: training\.lr").And.Contain("nothing queued");
        (await _lab.Scalar<long>("select count(*) from mannlab.runs")).Should().Be(0);
        (await _lab.Scalar<long>("select count(*) from mannlab.experiments")).Should().Be(0);
        (await _lab.Scalar<long>("select count(*) from hangfire.job")).Should().Be(0);
    }

    [Fact]
    public async Task Submit_queues_a_file_once_and_runs_lists_it()
    {
        _lab.Home.Write("once.yaml", JobsHarness.Spec("once", 320, 160, 160, "sweep: {training.seed: [1, 2]}"));

        var first = _lab.Run("submit", "once.yaml");
        var again = _lab.Run("submit", "once.yaml");
        var runs = _lab.Run("runs", "--experiment", "once");

        first.Out.Should().Contain("once.yaml: queued 2 run(s)");
        again.Out.Should().Contain("all known already");
        (await _lab.Scalar<long>("select count(*) from hangfire.job")).Should().Be(2, "a file already queued is not queued again");
        runs.ExitCode.Should().Be(0, runs.Err);
        runs.Out.Split('\n').Count(l => l.Contains(" once ") && l.Contains("queued")).Should().Be(2);
    }

    [Fact]
    public async Task The_final_status_is_written_once_by_the_worker_not_by_the_training_process()
    {
        // Every write of mannlab.runs.status, with the application that made it.
        await using (var watch = _lab.Db.CreateCommand("""
            create table status_writes (seq serial, old text, new text, app text);
            create function log_status() returns trigger language plpgsql as $$
            begin
                insert into status_writes (old, new, app) values (old.status, new.status, current_setting('application_name'));
                return new;
            end $$;
            create trigger status_written after update of status on mannlab.runs for each row execute function log_status();
            """))
            await watch.ExecuteNonQueryAsync();
        await _lab.Submit("once.yaml", JobsHarness.Spec("once", 320, 160, 160));

        using (_lab.Jobs.StartWorkers(["cpu"], 1))
            await _lab.Until(() => _lab.AllFinished(1), "the run to finish");

        var writes = await _lab.Column<string>("select old || '>' || new || ' ' || app from status_writes order by seq");
        writes.Where(w => w.Contains(">succeeded")).Should().Equal(["running>succeeded mannlab"], string.Join("; ", writes));
        writes.Should().NotContain(w => w.EndsWith(TrainingProtocol.ApplicationName), "the training process writes metrics, never the status");
        (await _lab.Scalar<long>("select count(*) from mannlab.metrics where name = 'train_loss'")).Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task A_training_process_that_dies_alone_is_retried_by_Hangfire_on_its_own_queue_and_resumes()
    {
        var run = (await _lab.Submit("crash.yaml", JobsHarness.Spec("crash", 96000, 96000, 3200, "priority: low"))).Runs.Head.Id;
        using var workers = _lab.Jobs.StartWorkers(["cpu"], 1);
        await _lab.Until(async () => await _lab.Scalar<long>("select coalesce(max(episode), 0) from mannlab.checkpoints") > 0, "a first checkpoint");

        // The worker runs in this test host, so its training process is a child of ours: kill that one alone.
        var child = Directory.GetDirectories("/proc").Select(Path.GetFileName).OfType<string>().Where(d => d.All(char.IsAsciiDigit)).Select(int.Parse)
            .Single(pid => ParentOf(pid) == Environment.ProcessId && CommandLine(pid).Contains($"_train\0{run}"));
        using (var process = Process.GetProcessById(child)) process.Kill();

        await _lab.Until(async () => await _lab.Scalar<string>("select status from mannlab.runs") == RunStatus.Succeeded && await _lab.AllFinished(1),
            "Hangfire's retry to resume the run");
        var attempts = await _lab.Column<string>("select attempt || ' ' || outcome || ' ' || from_episode from mannlab.run_attempts order by attempt");
        attempts.Should().HaveCount(2);
        attempts[0].Should().StartWith("1 crashed ");
        attempts[1].Should().StartWith("2 succeeded ");
        long.Parse(attempts[1].Split(' ')[2]).Should().BeGreaterThan(0, "it resumed from its checkpoint");

        static int ParentOf(int pid)
        {
            try { return int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[1]); }
            catch (IOException) { return -1; } // gone meanwhile
        }
        static string CommandLine(int pid)
        {
            try { return File.ReadAllText($"/proc/{pid}/cmdline"); }
            catch (IOException) { return ""; }
        }
    }
}
