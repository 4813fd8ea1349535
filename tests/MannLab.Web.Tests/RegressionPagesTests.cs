namespace MannLab.Web.Tests;

/// <summary>
/// A 1-D regression trained by the job system, read back through the view regression_steps, the
/// stored bands, `plot regression`, `plot bands` and its run page.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class RegressionPagesTests(SiteFixture site)
{
    [Fact]
    public async Task A_regressions_scores_by_step_and_its_bands_show_in_the_view_plot_and_the_run_page()
    {
        using var lab = new JobsHarness(site.Pg);
        var experiment = await lab.Submit("gp.yaml", """
            name: gp
            task: {kind: regression, regression: {dimensions: 1, points: 8}}
            model: {kind: mann, hidden: 16, memory: {slots: 8, width: 4, read_heads: 1}}
            training: {optimizer: adam, lr: 3e-3, episodes: 320, batch_size: 16, seed: 1}
            evaluation: {every: 160, episodes: 32}
            checkpoint: {every: 160}
            """);
        var id = experiment.Runs.Head.Id;
        using (lab.Jobs.StartWorkers(["cpu"], 1))
            await lab.Until(() => lab.AllFinished(1), "the regression run to finish");
        (await lab.Scalar<string>("select status from mannlab.runs where id = @run", ("run", id))).Should().Be("succeeded");

        // Each evaluation scores the model and the GP at each of the 8 steps; the last is final.
        (await lab.Column<string>("select distinct episodes || ' ' || predictor || ' ' || final from mannlab.regression_steps where run_id = @run order by 1",
            ("run", id))).Should().Equal("160 gp false", "160 model false", "320 gp true", "320 model true");
        (await lab.Column<int>("select step from mannlab.regression_steps where run_id = @run and final and predictor = 'gp' order by step", ("run", id)))
            .Should().Equal(Enumerable.Range(1, 8));
        (await lab.Scalar<long>("select count(*) from mannlab.regression_steps where run_id = @run and (nll is null or squared_error is null)", ("run", id)))
            .Should().Be(0);
        (await lab.Scalar<double>("select avg(nll) from mannlab.regression_steps where run_id = @run and final and predictor = 'model'", ("run", id)))
            .Should().BeApproximately(await lab.Scalar<double>("select value from mannlab.metrics where run_id = @run and step = 320 and name = 'eval_loss'", ("run", id)), 1e-9);
        // Bands at both checkpoints, after 2 and 5 points (10 is not below the 8 points of an episode).
        (await lab.Column<string>("select step || ' ' || seen from mannlab.regression_bands where run_id = @run order by step, seen", ("run", id)))
            .Should().Equal("160 2", "160 5", "320 2", "320 5");
        (await lab.Scalar<int>("select jsonb_array_length(bands -> 'SeenX') from mannlab.regression_bands where run_id = @run and step = 320 and seen = 5", ("run", id)))
            .Should().Be(5);

        var nll = lab.Home.Sub("plots/nll.svg");
        var plot = lab.Run("plot", "regression", id, "--out", nll);
        plot.ExitCode.Should().Be(0, plot.Err);
        File.ReadAllText(nll).Should().Contain("<svg").And.Contain("points seen").And.Contain("GP posterior");
        var bands = lab.Home.Sub("plots/bands.png");
        var drawn = lab.Run("plot", "bands", id, "--seen", "2", "--out", bands);
        drawn.ExitCode.Should().Be(0, drawn.Err);
        File.ReadAllBytes(bands).Take(4).Should().Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' });
        var unseen = lab.Run("plot", "bands", id, "--seen", "3", "--out", bands);
        unseen.ExitCode.Should().Be(1);
        unseen.Err.Should().Contain("has bands after 2, 5 points");

        await using var web = await site.StartWeb(lab);
        var page = await site.Get(web.Address + $"/runs/{id}");
        page.Should().Contain("Final held-out NLL against points seen").And.Contain("Held-out function after 5 points")
            .And.NotContain("No evaluation yet");

        // The shipped dashboard: NLL and squared error by points seen (the model's line and one GP line), training NLL, the table.
        var dashboard = await site.Get(web.Address + "/dashboards/regression?experiment=gp&dimensions=1");
        dashboard.Should().NotContain("class=\"error\"").And.Contain($"{id} mann seed 1").And.Contain("exact GP posterior")
            .And.Contain($"<td>{id}</td>").And.Contain("% of the GP&#39;s gain");
        System.Text.RegularExpressions.Regex.Matches(dashboard, "<svg").Count.Should().Be(3);
        (await site.Get(web.Address + "/dashboards/regression?experiment=gp&dimensions=2")).Should().NotContain($"{id} mann seed 1", "a 1-D run is not among the 2-D ones");
    }
}
