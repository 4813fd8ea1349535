using System.Text.RegularExpressions;
using MannLab.Runs;
using Npgsql;

namespace MannLab.Web.Tests;

[Collection(SiteCollection.Name)]
public sealed class PageTests(SiteFixture site)
{
    private static int Svgs(string html) => Regex.Matches(html, "<svg").Count;

    [Fact]
    public async Task The_runs_page_lists_the_runs_with_their_accuracies_and_filters_them()
    {
        var all = await site.Get("/");
        var lstm = await site.Get("/?model=lstm");

        all.Should().Contain(site.MannRun).And.Contain(site.LstmRun).And.Contain("2 run(s)");
        lstm.Should().Contain(site.LstmRun).And.NotContain($"/runs/{site.MannRun}").And.Contain("1 run(s)");
        (await site.Get("/?status=failed")).Should().Contain("0 run(s)");
        (await site.Get("/?tag=none-such")).Should().Contain("0 run(s)");
    }

    [Fact]
    public async Task A_run_page_shows_its_curves_environment_spec_and_memory()
    {
        var page = await site.Get($"/runs/{site.MannRun}");

        Svgs(page).Should().BeGreaterThanOrEqualTo(3, "accuracy by sight, loss and throughput");
        page.Should().Contain("data-chart=\"instances\"").And.Contain("&quot;kind&quot;: &quot;mann&quot;").And.Contain("succeeded")
            .And.Contain("Attempts").And.Contain(Environment.MachineName);
        page.Should().Contain($"/runs/{site.MannRun}/memory/640.png").And.Contain("?memory=320\"");
        (await site.Lab.Column<long>("select step from mannlab.memory_snapshots where run_id = @run order by step", ("run", site.MannRun)))
            .Should().Equal([320L, 640L], "the memory is drawn at every checkpoint");
        (await site.Lab.Scalar<long>("select count(*) from mannlab.memory_snapshots where run_id = @run", ("run", site.LstmRun))).Should().Be(0);
        var memory = await site.Http.GetAsync($"/runs/{site.MannRun}/memory/320.png");
        memory.IsSuccessStatusCode.Should().BeTrue(await memory.Content.ReadAsStringAsync());
        (await memory.Content.ReadAsByteArrayAsync())[..4].Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
        (await site.Get($"/runs/{site.MannRun}?memory=320")).Should().Contain($"/runs/{site.MannRun}/memory/320.png");
        (await site.Http.GetAsync($"/runs/{site.MannRun}/memory/999.png")).StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        (await site.Http.GetAsync("/runs/000000000000")).StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_run_pages_accuracy_chart_draws_one_line_per_reported_instance_through_its_recorded_points()
    {
        var recorded = new List<(int Instance, long Step, double Accuracy)>();
        await using (var query = site.Lab.Db.CreateCommand("""
            select instance, step, correct::double precision / total from mannlab.instance_accuracy
            where run_id = @run and split = 'test' order by instance, step
            """))
        {
            query.Parameters.AddWithValue("run", site.MannRun);
            await using var rows = await query.ExecuteReaderAsync();
            while (await rows.ReadAsync()) recorded.Add((rows.GetInt32(0), rows.GetInt64(1), rows.GetDouble(2)));
        }
        var byInstance = recorded.GroupBy(r => r.Instance).ToList();
        byInstance.Select(g => g.Key).Should().Equal([1, 2], "the site's spec reports the 1st and 2nd instance");
        recorded.Select(r => r.Step).Distinct().Should().Equal([320L, 640L], "it evaluates every 320 of 640 episodes");

        var page = await site.Get($"/runs/{site.MannRun}");
        var svg = Regex.Match(page, "data-chart=\"instances\">(.*?</svg>)", RegexOptions.Singleline);
        svg.Success.Should().BeTrue("the run page has the held-out accuracy chart");
        var chart = ChartSvg.Parse(svg.Groups[1].Value);

        chart.Texts.Should().Contain("Held-out accuracy by sight");
        chart.Legend.Select(e => e.Name).Should().Equal("1st", "2nd");
        chart.Lines.Should().HaveCount(2, "one line per reported instance");
        var pairs = new List<(double Step, double Accuracy, (double X, double Y) Pixel)>();
        foreach (var instance in byInstance)
        {
            var line = chart.LineOf(RunFormat.Ordinal(instance.Key));
            line.Segments.Should().Be(1);
            line.Points.Should().HaveCount(instance.Count(), $"{RunFormat.Ordinal(instance.Key)}: one point per evaluation");
            line.Points.Select(p => p.X).Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            pairs.AddRange(instance.Zip(line.Points, (r, p) => ((double)r.Step, r.Accuracy, p)));
        }
        // One mapping per axis places every recorded point, and accuracy 0 to 1 fills the data area.
        var x = ChartSvg.Fit([.. pairs.Select(p => (p.Step, p.Pixel.X))]);
        x.MaxResidual.Should().BeLessThan(0.05);
        x.Scale.Should().BePositive();
        var area = chart.Lines[0].Area;
        foreach (var (step, accuracy, pixel) in pairs)
            pixel.Y.Should().BeApproximately(area.Y + area.Height * (1 - accuracy), 0.05, $"accuracy {accuracy} at episode {step}");
    }

    [Fact]
    public async Task Compare_shows_the_runs_curves_side_by_side_and_how_their_specs_differ()
    {
        var page = await site.Get($"/compare?run={site.MannRun}&run={site.LstmRun}");

        Svgs(page).Should().Be(3, "one curve chart per run and the final accuracies together");
        page.Should().Contain("id=\"spec-diff\"").And.Contain("model.kind").And.Contain("&quot;mann&quot;").And.Contain("&quot;lstm&quot;");
    }

    [Fact]
    public async Task The_shipped_dashboards_render_from_real_runs()
    {
        (await site.Get("/dashboards")).Should().Contain("Table 1 vs the paper").And.Contain("Table 2 vs the paper").And.Contain("Run health").And.Contain("Persistent memory").And.Contain("Curriculum and class counts").And.Contain("Gaussian-process regression");
        // Table 2's dashboard draws the paper's curves whether or not a run of its settings exists.
        foreach (var (slug, charts) in new[] { ("table1-vs-paper", 0), ("table2-vs-paper", 1), ("learning-curves", 2), ("sweep", 1), ("run-health", 1), ("persistent-memory", 2), ("curriculum", 0), ("regression", 0) })
        {
            var page = await site.Get($"/dashboards/{slug}?experiment=site");
            page.Should().NotContain("class=\"error\"", slug);
            Svgs(page).Should().BeGreaterThanOrEqualTo(charts, slug);
        }
        (await site.Get("/dashboards/table1-vs-paper?experiment=site")).Should().Contain("<td>site</td>");
    }

    [Fact]
    public async Task The_report_page_shows_every_table_of_the_paper()
    {
        var page = await site.Get("/report");
        page.Should().Contain(PaperReport.Title).And.Contain("Table 1: Omniglot, 5 classes, one-hot labels")
            .And.Contain("Table 2: Omniglot, 5 classes, string labels (as transcribed)").And.Contain("Table 2: Omniglot, 15 classes, string labels (as transcribed)");
        page.Should().Contain("not yet run", "the site's runs are on synthetic glyphs: none of the paper's settings");
        page.Should().Contain("<a href=\"/report\">Report</a>");
    }

    [Fact]
    public async Task A_bad_dashboard_file_shows_its_errors_where_they_are_and_the_rest_keeps_working()
    {
        var broken = await site.Get("/dashboards/broken-yaml");
        var mixed = await site.Get("/dashboards/mixed");

        broken.Should().MatchRegex(@"broken-yaml\.yaml:\d+:\d+: error:");
        mixed.Should().Contain("no_such_column").And.Contain("&#39;pie&#39; is not a chart kind");
        mixed.Should().Contain(site.MannRun, "the good table panel still renders").And.Contain("data-chart=\"Good bars\"");
        (await site.Get("/")).Should().Contain(site.MannRun);
    }

    [Fact]
    public async Task An_injection_attempt_in_a_filter_is_only_a_value()
    {
        var runs = await site.Get("/?experiment=" + Uri.EscapeDataString("site' or '1'='1"));
        var dashboard = await site.Get("/dashboards/learning-curves?experiment=" + Uri.EscapeDataString("x'; delete from mannlab.metrics; --"));

        runs.Should().Contain("0 run(s)");
        dashboard.Should().NotContain("class=\"error\"").And.Contain("No rows");
        (await site.Lab.Scalar<long>("select count(*) from mannlab.metrics")).Should().BeGreaterThan(0);
        (await site.Lab.Scalar<long>("select count(*) from mannlab.runs")).Should().Be(2);
    }

    [Fact]
    public async Task The_read_only_role_cannot_write_even_when_it_asks_for_a_writable_transaction()
    {
        await using var reader = NpgsqlDataSource.Create(site.ReadOnlyConnection);

        var insert = async () => { await using var c = reader.CreateCommand("insert into mannlab.paper_results values ('x', 'y', 1, 0.5)"); await c.ExecuteNonQueryAsync(); };
        var delete = async () =>
        {
            await using var c = reader.CreateCommand("set default_transaction_read_only = off; begin read write; delete from mannlab.metrics; commit");
            await c.ExecuteNonQueryAsync();
        };

        (await insert.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().BeOneOf("25006", "42501");
        (await delete.Should().ThrowAsync<PostgresException>()).Which.SqlState.Should().Be("42501", "the role has no write privilege at all");
        await using var select = reader.CreateCommand("select count(*) from mannlab.runs");
        (await select.ExecuteScalarAsync()).Should().Be(2L);
    }
}
