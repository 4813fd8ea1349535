namespace MannLab.Web.Tests;

/// <summary>
/// A curriculum run trained by the job system and evaluated at other class counts, read back
/// through the views, `compare`, `plot classes` and its run page.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class ClassCountTests(SiteFixture site)
{
    [Fact]
    public async Task Accuracy_against_classes_shows_in_the_views_compare_plot_and_the_run_page()
    {
        using var lab = new JobsHarness(site.Pg);
        var experiment = await lab.Submit("growing.yaml", $"""
            name: growing
            dataset: {JobsHarness.Synthetic}
            task: {"{classes: 4, length_per_class: 3, labels: string, curriculum: {start: 2, every: 160}}"}
            model: {"{kind: lstm, hidden: 16}"}
            training: {"{optimizer: adam, lr: 3e-3, episodes: 320, batch_size: 16, seed: 1}"}
            evaluation: {"{every: 160, episodes: 32, instances: [1, 2], classes: [2, 8]}"}
            checkpoint: {"{every: 320}"}
            """);
        var id = experiment.Runs.Head.Id;
        using (lab.Jobs.StartWorkers(["cpu"], 1))
            await lab.Until(() => lab.AllFinished(1), "the curriculum run to finish");
        (await lab.Scalar<string>("select status from mannlab.runs where id = @run", ("run", id))).Should().Be("succeeded");

        // The views: the headline stays the task's 4 classes; accuracy_by_classes has every count.
        (await lab.Column<string>("select classes || ' ' || instance || ' ' || trained from mannlab.accuracy_by_classes where run_id = @run order by classes, instance",
            ("run", id))).Should().Equal("2 1 false", "2 2 false", "4 1 true", "4 2 true", "8 1 false", "8 2 false");
        (await lab.Scalar<long>("select count(*) from mannlab.final_instance_accuracy where run_id = @run and split = 'test'", ("run", id))).Should().Be(2);
        (await lab.Column<long>("select distinct episodes from mannlab.learning_curves where run_id = @run order by 1", ("run", id))).Should().Equal(160, 320);
        (await lab.Column<int>("select distinct classes from mannlab.instance_accuracy where run_id = @run and split = 'train' order by 1", ("run", id)))
            .Should().Equal(new[] { 2, 3 }, "the curriculum's 2 classes, then 3 from episode 160");

        var compare = lab.Run("compare", id);
        compare.ExitCode.Should().Be(0, compare.Err);
        var lines = compare.Out.Split('\n');
        lines.Should().Contain("held-out accuracy against classes, after training:");
        lines.Should().Contain(l => l.StartsWith(id) && l.Contains(" 4 (trained for) "));
        lines.Where(l => l.StartsWith(id)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).Should().Contain(["2", "8"]);

        var svg = lab.Home.Sub("plots/classes.svg");
        var plot = lab.Run("plot", "classes", id, "--out", svg);
        plot.ExitCode.Should().Be(0, plot.Err);
        File.ReadAllText(svg).Should().Contain("<svg").And.Contain("against classes");

        await using var web = await site.StartWeb(lab);
        var page = await site.Get(web.Address + $"/runs/{id}");
        page.Should().Contain("Final held-out accuracy against classes, by sight").And.Contain("Curriculum: classes of the training episodes");
        var dashboard = await site.Get(web.Address + "/dashboards/curriculum?experiment=growing");
        dashboard.Should().NotContain("class=\"error\"");
        System.Text.RegularExpressions.Regex.Matches(dashboard, "<svg").Count.Should().BeGreaterThanOrEqualTo(3, "accuracy against classes, the curve, the schedule");
        dashboard.Should().Contain("4 (trained for)");
    }
}
