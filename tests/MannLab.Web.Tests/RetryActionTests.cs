using MannLab.Runs;
using MannLab.Storage;
using MannLab.Web;

namespace MannLab.Web.Tests;

/// <summary>
/// The run page's Retry and a requeue in the Hangfire dashboard, both over HTTP to a real site:
/// they retry a run through one path (RunLeases.RetryAsync), so they leave it in the same state.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class RetryActionTests(SiteFixture site)
{
    [Fact]
    public async Task The_run_pages_retry_and_a_requeue_in_the_Hangfire_dashboard_retry_a_run_alike()
    {
        using var lab = new JobsHarness(site.Pg);
        var experiment = await lab.Submit("pair.yaml", JobsHarness.Spec("pair", 96000, 96000, 3200, "sweep: {training.seed: [1, 2]}"));
        var (viaPage, viaDashboard) = (experiment.Runs[0].Id, experiment.Runs[1].Id);
        await using var web = await site.StartWeb(lab);
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(web.Address) };
        async Task<string?> Status(string run) => await lab.Scalar<string>("select status from mannlab.runs where id = @run", ("run", run));
        async Task<HttpResponseMessage> Post(string path, string origin, params (string Name, string Value)[] form)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value))) };
            request.Headers.Add("Origin", origin);
            return await http.SendAsync(request);
        }
        using var workers = lab.Jobs.StartWorkers(["cpu"], 2);
        await lab.Until(async () => await lab.Scalar<long>("select count(*) from mannlab.checkpoints") == 2, "both runs to checkpoint");
        foreach (var run in new[] { viaPage, viaDashboard }) await lab.Jobs.CancelAsync(run);
        await lab.Until(async () => await Status(viaPage) == RunStatus.Cancelled && await Status(viaDashboard) == RunStatus.Cancelled, "both runs to be cancelled");
        var checkpoints = new Dictionary<string, long>();
        foreach (var run in new[] { viaPage, viaDashboard })
            checkpoints[run] = await lab.Scalar<long>("select episode from mannlab.checkpoints where run_id = @run", ("run", run));

        (await site.Get(web.Address + $"/runs/{viaPage}")).Should().Contain($"action=\"/runs/{viaPage}/retry\"");
        var forged = await Post($"/runs/{viaPage}/retry", "http://evil.example");
        forged.StatusCode.Should().Be(System.Net.HttpStatusCode.Forbidden, "another site's page may not act here");
        (await Status(viaPage)).Should().Be(RunStatus.Cancelled);

        var retried = await Post($"/runs/{viaPage}/retry", web.Address);
        retried.StatusCode.Should().Be(System.Net.HttpStatusCode.Redirect, await retried.Content.ReadAsStringAsync());
        retried.Headers.Location!.ToString().Should().Be($"/runs/{viaPage}");
        var job = (await lab.Scalar<string>("select job_id from mannlab.runs where id = @run", ("run", viaDashboard)))!;
        var requeued = await Post("/hangfire/jobs/deleted/requeue", web.Address, ("jobs[]", job));
        requeued.IsSuccessStatusCode.Should().BeTrue($"the dashboard's requeue answered {(int)requeued.StatusCode}: {await requeued.Content.ReadAsStringAsync()}");

        await lab.Until(async () => await Status(viaPage) == RunStatus.Succeeded && await Status(viaDashboard) == RunStatus.Succeeded && await lab.AllFinished(2),
            "both retried runs to finish");
        async Task<List<string>> Record(string run) => await lab.Column<string>("""
            select a.attempt || ' ' || a.outcome || ' ' || (a.from_episode = @checkpoint) || ' ' || r.retried_at_attempt || ' ' || r.cancel_requested
            from mannlab.run_attempts a join mannlab.runs r on r.id = a.run_id where a.run_id = @run order by a.attempt
            """, ("run", run), ("checkpoint", checkpoints[run]));
        (await Record(viaPage)).Should().Equal("1 cancelled false 1 false", "2 succeeded true 1 false");
        (await Record(viaDashboard)).Should().Equal(await Record(viaPage));

        // A succeeded run offers no retry, and asking anyway changes nothing.
        (await site.Get(web.Address + $"/runs/{viaPage}")).Should().NotContain("/retry\"");
        var refused = await Post($"/runs/{viaPage}/retry", web.Address);
        refused.StatusCode.Should().Be(System.Net.HttpStatusCode.Conflict);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("succeeded, not retried");
        (await lab.Scalar<long>("select count(*) from mannlab.run_attempts")).Should().Be(4);
    }
}
