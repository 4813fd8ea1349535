using Hangfire;
using Hangfire.States;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Jobs.Tests;

/// <summary>`mannlab retry` and a requeue in the Hangfire dashboard: a run comes back as a new attempt from its checkpoint.</summary>
[Collection(PostgresCollection.Name)]
public sealed class RetryTests(PostgresFixture pg) : IDisposable
{
    // Nothing here crashes, so a long lease: with the short one, a renewal that the loaded CI
    // machine answered late stopped a run mid-test as interrupted, an attempt the test did not make.
    private readonly JobsHarness _lab = new(pg, leaseSeconds: 60);

    public void Dispose() => _lab.Dispose();

    private Task<string?> Status() => _lab.Scalar<string>("select status from mannlab.runs");

    private Task<List<string>> Attempts() => _lab.Column<string>("select attempt || ' ' || outcome || ' ' || from_episode from mannlab.run_attempts order by attempt");

    /// <summary>Starts training <paramref name="run"/>, and cancels it once it has checkpointed: the checkpoint's episode.</summary>
    private async Task<long> CancelAfterCheckpoint(string run)
    {
        await _lab.Until(async () => await _lab.Scalar<long>("select coalesce(max(episode), 0) from mannlab.checkpoints") > 0, "a first checkpoint");
        await _lab.Jobs.CancelAsync(run);
        await _lab.Until(async () => await Status() == RunStatus.Cancelled, "the run to be cancelled");
        var checkpoint = await _lab.Scalar<long>("select episode from mannlab.checkpoints");
        (await _lab.Scalar<long>("select episodes_done from mannlab.runs")).Should().Be(checkpoint, "it checkpointed where it stopped");
        return checkpoint;
    }

    [Fact]
    public async Task Retry_resumes_a_cancelled_and_then_a_failed_run_from_its_checkpoint_as_new_attempts()
    {
        const int episodes = 96000, evalEvery = 32000, checkpointEvery = 3200, batch = 16;
        // The run reads Omniglot from its spec's path; swapping what is there makes its next attempt fail for bad data.
        var data = _lab.Home.Sub("omniglot");
        Directory.CreateSymbolicLink(data, OmniglotArchives.Folder);
        var run = (await _lab.Submit("retried.yaml", JobsHarness.Spec("retried", episodes, evalEvery, checkpointEvery, dataset: JobsHarness.Omniglot(data)))).Runs.Head.Id;
        _lab.Start("worker", "--workers", "1");
        var checkpoint = await CancelAfterCheckpoint(run);

        Directory.Delete(data);
        _lab.Home.Write("omniglot/images_background.zip", "not a zip");
        _lab.Home.Write("omniglot/images_evaluation.zip", "not a zip");
        var again = _lab.Run("retry", run[..6]);
        again.ExitCode.Should().Be(0, again.Err);
        again.Out.Should().Contain($"run {run}: cancelled, queued again: attempt 2 resumes from its checkpoint at episode {checkpoint}");
        await _lab.Until(async () => await Status() == RunStatus.Failed, "the retried run to fail on the bad archives");
        (await _lab.Scalar<string>("select error from mannlab.runs")).Should().Contain("images_background.zip: not a readable zip archive");

        Directory.Delete(data, recursive: true);
        Directory.CreateSymbolicLink(data, OmniglotArchives.Folder);
        var failed = _lab.Run("retry", "--failed", "--experiment", "retried");
        failed.ExitCode.Should().Be(0, failed.Err);
        failed.Out.Should().Contain($"run {run}: failed, queued again: attempt 3 resumes from its checkpoint at episode {checkpoint}");
        await _lab.Until(() => _lab.AllFinished(1), "the run to be retried and finish");

        (await Status()).Should().Be(RunStatus.Succeeded);
        (await Attempts()).Should().Equal($"1 cancelled 0", $"2 failed {checkpoint}", $"3 succeeded {checkpoint}");
        // The metrics of an uninterrupted run, and the window the cancelled attempt closed where it
        // stopped: nothing lost, nothing recorded twice across the attempts.
        static bool Crossed(long e, long every) => e / every > (e - batch) / every;
        var expected = Enumerable.Range(1, episodes / batch).Select(i => (long)i * batch)
            .Where(e => e / batch % 10 == 0 || Crossed(e, evalEvery) || Crossed(e, checkpointEvery) || e == episodes || e == checkpoint).ToList();
        (await _lab.Column<long>("select step from mannlab.metrics where name = 'train_loss' order by step")).Should().Equal(expected);
        (await _lab.Column<long>("select step from mannlab.metrics where name = 'eval_acc_2' order by step")).Should().Equal(32000L, 64000L, 96000L);

        // Bad requests change nothing.
        var succeeded = _lab.Run("retry", run);
        succeeded.ExitCode.Should().Be(1);
        succeeded.Err.Should().Contain($"run {run}: succeeded, not retried: only failed, cancelled or interrupted runs are");
        _lab.Run("retry").Err.Should().Contain("name the runs to retry");
        _lab.Run("retry", run, "--failed").Err.Should().Contain("not both");
        _lab.Run("retry", "--experiment", "retried").Err.Should().Contain("--experiment goes with --failed");
        _lab.Run("retry", "zzzzzz").Err.Should().Contain("no run zzzzzz");
        _lab.Run("retry", "--failed").Out.Should().Contain("no failed runs: nothing to retry");
        (await Attempts()).Should().HaveCount(3);
        (await Status()).Should().Be(RunStatus.Succeeded);
    }

    [Fact]
    public async Task A_requeued_dashboard_job_and_a_retry_for_the_same_run_train_it_once()
    {
        var run = (await _lab.Submit("twice.yaml", JobsHarness.Spec("twice", 96000, 96000, 3200))).Runs.Head.Id;
        using var workers = _lab.Jobs.StartWorkers(["cpu"], 2);
        var checkpoint = await CancelAfterCheckpoint(run);
        var requeued = (await _lab.Scalar<string>("select job_id from mannlab.runs"))!;

        // Two jobs for the run: `mannlab retry`'s, then its cancelled job requeued as the dashboard does it.
        (await _lab.Jobs.RetryAsync(run)).Should().BeOfType<RetryResult.Queued>();
        var retried = (await _lab.Scalar<string>("select job_id from mannlab.runs"))!;
        retried.Should().NotBe(requeued, "the retry gave the run a job of its own");
        new BackgroundJobClient(_lab.Jobs.Storage).ChangeState(requeued, new EnqueuedState { Reason = "Triggered via Dashboard UI" }, DeletedState.StateName)
            .Should().BeTrue();
        using var hangfire = _lab.Jobs.Storage.GetConnection();
        bool Ended(string job) => hangfire.GetStateData(job)?.Name == SucceededState.StateName;
        await _lab.Until(async () => await _lab.AllFinished(1) && Ended(requeued) && Ended(retried), "the run to finish and both jobs to end");

        (await Status()).Should().Be(RunStatus.Succeeded);
        (await Attempts()).Should().Equal("1 cancelled 0", $"2 succeeded {checkpoint}");
    }

    [Fact]
    public async Task A_dashboard_requeue_of_a_cancelled_runs_job_retries_it_on_its_own_queue()
    {
        var run = (await _lab.Submit("requeued.yaml", JobsHarness.Spec("requeued", 96000, 96000, 3200, "priority: low"))).Runs.Head.Id;
        using var workers = _lab.Jobs.StartWorkers(["cpu"], 1);
        var checkpoint = await CancelAfterCheckpoint(run);
        var job = (await _lab.Scalar<string>("select job_id from mannlab.runs"))!;

        new BackgroundJobClient(_lab.Jobs.Storage).ChangeState(job, new EnqueuedState { Reason = "Triggered via Dashboard UI" }, DeletedState.StateName);

        await _lab.Until(async () => await Status() == RunStatus.Succeeded && await _lab.AllFinished(1), "the requeued job to retry the run");
        (await Attempts()).Should().Equal("1 cancelled 0", $"2 succeeded {checkpoint}");
        (await _lab.Scalar<string>("select job_id from mannlab.runs")).Should().Be(job, "the requeued job trained it");
        _lab.Jobs.Storage.GetMonitoringApi().JobDetails(job).History.First(h => h.StateName == EnqueuedState.StateName).Data["Queue"]
            .Should().Be("cpu_low", "the dashboard requeues onto \"default\", which no worker serves");
        (await _lab.Scalar<int>("select retried_at_attempt from mannlab.runs")).Should().Be(1);
    }
}
