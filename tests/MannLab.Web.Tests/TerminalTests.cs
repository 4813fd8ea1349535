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
