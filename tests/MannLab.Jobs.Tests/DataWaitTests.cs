using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Jobs.Tests;

/// <summary>
/// Runs whose Omniglot is missing: they wait with what supplies it, and start by themselves once
/// it is there. Workers and `up` run as processes of the lab, whose environment has no Omniglot
/// unless a test gives it; the archives come from the real ones, read in place or served on loopback.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DataWaitTests(PostgresFixture pg) : IDisposable
{
    private readonly JobsHarness _lab = new(pg);

    public void Dispose() => _lab.Dispose();

    private Task<string?> Status(string run) => _lab.Scalar<string>("select status from mannlab.runs where id = @run", ("run", run));

    private Task<string?> WaitReason(string run) => _lab.Scalar<string>("select wait_reason from mannlab.runs where id = @run", ("run", run));

    [Fact]
    public async Task Runs_without_their_data_wait_with_what_supplies_it_and_start_once_data_fetch_or_their_spec_path_brings_it()
    {
        var elsewhere = _lab.Home.Sub("elsewhere/omniglot");
        var fetched = (await _lab.Submit("fetched.yaml", JobsHarness.Spec("fetched", 320, 320, 320, dataset: JobsHarness.Omniglot()))).Runs.Head.Id;
        var placed = (await _lab.Submit("placed.yaml", JobsHarness.Spec("placed", 320, 320, 320, dataset: JobsHarness.Omniglot(elsewhere)))).Runs.Head.Id;
        _lab.Start("worker", "--workers", "1");

        await _lab.Until(async () => await Status(fetched) == RunStatus.Waiting && await Status(placed) == RunStatus.Waiting, "both runs to wait for their data");

        (await WaitReason(fetched)).Should().Contain("waiting for Omniglot").And.Contain(_lab.Home.Sub("data/omniglot"))
            .And.Contain("`./mannlab data fetch omniglot`").And.Contain("MANNLAB_OMNIGLOT=");
        (await WaitReason(placed)).Should().Contain("dataset.path").And.Contain(elsewhere);
        (await _lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(0, "nothing was tried, nothing failed");
        var runs = _lab.Run("runs", "--status", "waiting");
        runs.Out.Should().Contain($"{fetched} (fetched) is waiting for Omniglot").And.Contain($"{placed} (placed) is waiting for Omniglot", runs.Err);

        // `data fetch` (from a stand-in for the authors' server) brings the first run's data: it starts by itself.
        using (var server = LocalArchiveServer.RealOmniglot())
        {
            var fetch = _lab.Run("data", "fetch", "omniglot", "--from", server.Url);
            fetch.ExitCode.Should().Be(0, fetch.Err);
        }
        await _lab.Until(async () => await Status(fetched) == RunStatus.Succeeded, "the fetched run to start by itself and succeed");
        (await Status(placed)).Should().Be(RunStatus.Waiting, "its spec names another place");

        // The data appears where the second run's spec says.
        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        Directory.CreateSymbolicLink(elsewhere, OmniglotArchives.Folder);
        await _lab.Until(async () => await Status(placed) == RunStatus.Succeeded, "the placed run to start by itself and succeed");

        (await _lab.Column<string>("select run_id || ' ' || attempt || ' ' || outcome from mannlab.run_attempts order by run_id"))
            .Should().BeEquivalentTo([$"{fetched} 1 succeeded", $"{placed} 1 succeeded"], "each trained once, when its data was there");
        (await WaitReason(placed)).Should().BeNull();
    }

    [Fact]
    public async Task Up_offline_leaves_the_run_waiting_says_so_in_one_line_and_ends_and_the_next_up_with_MANNLAB_OMNIGLOT_trains_it()
    {
        var run = (await _lab.Submit("experiments/paper.yaml", JobsHarness.Spec("paper", 320, 320, 320, dataset: JobsHarness.Omniglot()))).Runs.Head.Id;
        var offline = LocalArchiveServer.Unreachable();

        var first = _lab.Run("up", "--experiments", "experiments", "--exit-when-done", "--port", "0", "--data-from", offline);

        var log = first.Out + first.Err;
        first.ExitCode.Should().Be(1, log);
        log.Split('\n').Where(l => l.Contains("Omniglot: cannot fetch it")).Should().ContainSingle(log)
            .Which.Should().Contain(offline).And.Contain("`./mannlab data fetch omniglot`");
        log.Should().NotContain("Exception").And.NotContain("   at ", "a failed download is no crash");
        first.Out.Should().Contain($"run {run} (paper) is waiting for Omniglot").And.Contain("MANNLAB_OMNIGLOT=")
            .And.Contain("done: 0 of 1 run(s) succeeded, 1 waiting for data");
        (await Status(run)).Should().Be(RunStatus.Waiting);
        (await _lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(0);

        // The same folder again, with the data named in `up`'s environment: the waiting run trains.
        _lab.Environment["MANNLAB_OMNIGLOT"] = OmniglotArchives.Folder;
        var second = _lab.Run("up", "--experiments", "experiments", "--exit-when-done", "--port", "0", "--data-from", offline);

        second.ExitCode.Should().Be(0, second.Out + second.Err);
        second.Out.Should().Contain("all known already").And.Contain("all 1 run(s) succeeded").And.NotContain("cannot fetch");
        (await Status(run)).Should().Be(RunStatus.Succeeded);
    }

    [Fact]
    public async Task Up_fetches_Omniglot_itself_when_a_queued_run_needs_it_with_progress_in_the_log()
    {
        _lab.Home.Write("experiments/paper.yaml", JobsHarness.Spec("paper", 320, 320, 320, dataset: JobsHarness.Omniglot()));
        using var server = LocalArchiveServer.RealOmniglot();

        var up = _lab.Run("up", "--experiments", "experiments", "--exit-when-done", "--port", "0", "--data-from", server.Url);

        up.ExitCode.Should().Be(0, up.Out + up.Err);
        up.Out.Should().Contain($"Omniglot: 1 run(s) need it; fetching it from {server.Url}")
            .And.MatchRegex(@"Omniglot: images_background\.zip: [1-9]\d\.\d% of 8\.5 MB").And.Contain("Omniglot: images_evaluation.zip: 100.0% of")
            .And.Contain("images_background.zip downloaded, images_evaluation.zip downloaded, checksums verified")
            .And.Contain("all 1 run(s) succeeded");
        foreach (var archive in new[] { "images_background.zip", "images_evaluation.zip" })
            File.ReadAllBytes(_lab.Home.Sub("data/omniglot/" + archive)).Should().Equal(File.ReadAllBytes(Path.Combine(OmniglotArchives.Folder, archive)));
        (await _lab.Column<string>("select attempt || ' ' || outcome from mannlab.run_attempts")).Should().Equal("1 succeeded");
    }
}
