namespace MannLab.Web.Tests;

/// <summary>`compare`, `plot` and `db psql --read-only`, as processes, on the site's database.</summary>
[Collection(SiteCollection.Name)]
public sealed class TerminalTests(SiteFixture site)
{
    [Fact]
    public void Compare_prints_each_runs_final_accuracy_by_sight()
    {
        var result = site.Lab.Run("compare", site.MannRun[..6], site.LstmRun);

        result.ExitCode.Should().Be(0, result.Err);
        var lines = result.Out.Split('\n');
        lines[0].Should().MatchRegex(@"^run\s+1st\s+2nd$");
        lines.Should().Contain(l => l.StartsWith(site.MannRun) && l.Contains(" site mann "));
        lines.Should().Contain(l => l.StartsWith(site.LstmRun) && l.Contains(" site lstm "));
        lines.Should().NotContain(l => l.StartsWith("paper:"), "a 3-way synthetic task is none of the paper's settings");
        site.Lab.Run("compare", "ffffff").Err.Should().Contain("no run ffffff");
    }

    [Fact]
    public void Plot_writes_the_charts_as_svg_and_png_files()
    {
        var svg = site.Lab.Home.Sub("plots/curves.svg");
        var png = site.Lab.Home.Sub("plots/instances.png");

        var curves = site.Lab.Run("plot", "curves", site.MannRun, "--out", svg);
        var instances = site.Lab.Run("plot", "instances", "--experiment", "site", "--out", png);
        var wrong = site.Lab.Run("plot", "curves", site.MannRun, "--out", site.Lab.Home.Sub("plots/curves.pdf"));

        curves.ExitCode.Should().Be(0, curves.Err);
        File.ReadAllText(svg).Should().Contain("<svg").And.Contain("held-out accuracy by sight");
        instances.ExitCode.Should().Be(0, instances.Err);
        File.ReadAllBytes(png)[..4].Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        wrong.ExitCode.Should().Be(1);
        wrong.Err.Should().Contain("expected a .png or .svg file");
    }

    [Fact]
    public void Report_paper_writes_the_report_as_html_or_markdown_and_refuses_other_files()
    {
        var html = site.Lab.Home.Sub("report/paper.html");
        var markdown = site.Lab.Home.Sub("report/paper.md");

        var asHtml = site.Lab.Run("report", "paper", "--out", html);
        var asMarkdown = site.Lab.Run("report", "paper", "--out", markdown);
        var wrong = site.Lab.Run("report", "paper", "--out", site.Lab.Home.Sub("report/paper.pdf"));

        asHtml.ExitCode.Should().Be(0, asHtml.Err);
        asHtml.Out.Should().Contain("beside 17 of the paper's", "Table 1's four rows and Table 2's six and seven");
        File.ReadAllText(html).Should().StartWith("<!doctype html>").And.Contain("Table 2: Omniglot, 15 classes").And.NotContain("<nav>");
        asMarkdown.ExitCode.Should().Be(0, asMarkdown.Err);
        File.ReadAllText(markdown).Should().StartWith("# " + PaperReport.Title).And.Contain("data:image/png;base64,");
        wrong.ExitCode.Should().Be(1);
        wrong.Err.Should().Contain("expected a .html or .md file");
        File.Exists(site.Lab.Home.Sub("report/paper.pdf")).Should().BeFalse();
    }

    [Fact]
    public async Task Plot_curves_against_minutes_places_each_evaluation_at_the_minutes_its_run_had_trained()
    {
        var svg = site.Lab.Home.Sub("plots/minutes.svg");

        var result = site.Lab.Run("plot", "curves", site.MannRun, site.LstmRun, "--against", "minutes", "--out", svg);

        result.ExitCode.Should().Be(0, result.Err);
        var chart = ChartSvg.Parse(File.ReadAllText(svg));
        chart.Texts.Should().Contain("minutes trained");
        var pairs = new List<(double Minutes, double Accuracy, (double X, double Y) Pixel)>();
        foreach (var (run, entry) in new[] { site.MannRun, site.LstmRun }.Zip(chart.Legend))
        {
            var minutes = await site.Lab.Column<double>(
                "select value from mannlab.metrics where run_id = @run and name = 'training_minutes' order by step", ("run", run));
            var accuracy = await site.Lab.Column<double>(
                "select correct::double precision / total from mannlab.instance_accuracy where run_id = @run and split = 'test' and instance = 2 order by step",
                ("run", run));
            minutes.Should().HaveCount(2, "one per evaluation").And.BeInAscendingOrder().And.OnlyContain(m => m > 0);
            entry.Name.Should().StartWith("site", "a legend names a run by its experiment first").And.EndWith($"({run})");
            var line = chart.LineOf(entry.Name);
            line.Points.Should().HaveCount(2);
            pairs.AddRange(minutes.Zip(accuracy, line.Points).Select(p => (p.First, p.Second, p.Third)));
        }
        // Both runs evaluated at episodes 320 and 640, but at their own minutes: one mapping of
        // minutes to pixels places all four points only if the x axis is the minutes.
        var x = ChartSvg.Fit([.. pairs.Select(p => (p.Minutes, p.Pixel.X))]);
        x.MaxResidual.Should().BeLessThan(0.05);
        x.Scale.Should().BePositive();
        var area = chart.Lines[0].Area;
        foreach (var (_, accuracy, pixel) in pairs) pixel.Y.Should().BeApproximately(area.Y + area.Height * (1 - accuracy), 0.05);

        var bad = site.Lab.Run("plot", "curves", site.MannRun, "--against", "hours", "--out", svg);
        bad.ExitCode.Should().NotBe(0);
        bad.Err.Should().Contain("hours");
    }

    [Fact]
    public async Task Db_psql_read_only_reads_but_cannot_write()
    {
        var read = site.Lab.Run("db", "psql", "--read-only", "-c", "select count(*) || ' runs' from runs");
        var write = site.Lab.Run("db", "psql", "--read-only", "-c", "delete from metrics");

        read.Out.Should().Contain("2 runs", read.Err);
        write.ExitCode.Should().NotBe(0);
        write.Err.Should().MatchRegex("read-only transaction|permission denied");
        (await site.Lab.Scalar<long>("select count(*) from mannlab.metrics")).Should().BeGreaterThan(0);
    }
}
