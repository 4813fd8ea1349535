using System.Text.RegularExpressions;

namespace MannLab.Web.Tests;

/// <summary>The runs page shows a page of runs at a time, so it costs the same with 10 runs stored or 10,000 (BENCHMARKS.md, "Pages at volume").</summary>
[Collection(SiteCollection.Name)]
public sealed class RunsPagingTests(SiteFixture site)
{
    [Fact]
    public async Task The_runs_page_shows_200_runs_at_a_time_with_links_that_keep_the_filters()
    {
        using var lab = new JobsHarness(site.Pg);
        await lab.Submit("many.yaml", JobsHarness.Spec("many", 48, 48, 48, $"sweep: {{training.seed: [{string.Join(", ", Enumerable.Range(1, 450))}]}}"));
        await using var web = await site.StartWeb(lab);
        using var http = new HttpClient { BaseAddress = new Uri(web.Address) };
        var ids = await lab.Column<string>("select id from mannlab.runs order by name, sweep_index, id");

        var first = await http.GetStringAsync("/?experiment=many");
        var second = await http.GetStringAsync("/?experiment=many&page=2");
        var last = await http.GetStringAsync("/?experiment=many&page=3");

        Listed(first).Should().Equal(ids[..200]);
        Listed(second).Should().Equal(ids[200..400]);
        Listed(last).Should().Equal(ids[400..]);
        first.Should().Contain("450 run(s), 1-200 shown").And.Contain("href=\"/?experiment=many&amp;page=2\">next").And.NotContain(">previous<");
        second.Should().Contain("450 run(s), 201-400 shown").And.Contain("page=1\">previous").And.Contain("page=3\">next");
        last.Should().Contain("450 run(s), 401-450 shown").And.NotContain(">next<");
    }

    private static List<string> Listed(string page) => [.. Regex.Matches(page, "<a href=\"/runs/([0-9a-f]{12})\">").Select(m => m.Groups[1].Value)];
}
