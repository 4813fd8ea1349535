using Microsoft.Playwright;

namespace MannLab.Web.Tests;

/// <summary>
/// The site in a real browser: Playwright driving Debian's chromium (test.sh installs it;
/// MANNLAB_CHROMIUM points elsewhere). Checks that charts really rendered, not just that pages loaded.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class BrowserTests(SiteFixture site)
{
    private static async Task<IBrowser> Launch(IPlaywright playwright)
    {
        var chromium = Environment.GetEnvironmentVariable("MANNLAB_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        File.Exists(chromium).Should().BeTrue($"the browser tests need chromium at {chromium} (./test.sh installs Debian's chromium)");
        return await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
    }

    /// <summary>How many drawn marks (paths, lines, rects...) the charts matching <paramref name="selector"/> hold, and their smallest drawn width.</summary>
    private static async Task<(int Marks, double Width)> Drawn(IPage page, string selector) => (
        await page.Locator($"{selector} svg :is(path, polyline, line, rect)").CountAsync(),
        await page.Locator($"{selector} svg").EvaluateAllAsync<double>("svgs => Math.min(...svgs.map(s => s.getBoundingClientRect().width))"));

    [Fact]
    public async Task Runs_run_compare_and_a_dashboard_render_their_charts_in_a_browser_and_a_filter_changes_what_is_shown()
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Launch(playwright);
        var page = await browser.NewPageAsync();

        // Runs list, then a filter.
        await page.GotoAsync(site.Web.Address + "/");
        (await page.Locator("#runs tbody tr").CountAsync()).Should().Be(2);
        await page.SelectOptionAsync("select[name=model]", "lstm");
        await page.ClickAsync("form.filters button");
        await page.WaitForURLAsync("**model=lstm**");
        (await page.Locator("#runs tbody tr").CountAsync()).Should().Be(1);
        (await page.Locator("#runs tbody").InnerTextAsync()).Should().Contain(site.LstmRun);

        // A run: its charts are drawn, and the memory heatmaps image loaded.
        await page.GotoAsync(site.Web.Address + "/");
        await page.ClickAsync($"a[href='/runs/{site.MannRun}']");
        var (marks, width) = await Drawn(page, "[data-chart=instances]");
        marks.Should().BeGreaterThan(20);
        width.Should().BeGreaterThan(300);
        var image = page.Locator("img[alt='memory heatmaps']");
        await image.ScrollIntoViewIfNeededAsync();
        await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"img[alt='memory heatmaps']\"); return i && i.complete && i.naturalWidth > 0; }",
            null, new() { Timeout = 120_000 });

        // Compare: select both runs on the list and press Compare.
        await page.GotoAsync(site.Web.Address + "/");
        await page.CheckAsync($"input[value='{site.MannRun}']");
        await page.CheckAsync($"input[value='{site.LstmRun}']");
        await page.ClickAsync("text=Compare the selected runs");
        await page.WaitForURLAsync("**/compare?**");
        (await Drawn(page, "[data-chart=final]")).Marks.Should().BeGreaterThan(10);
        (await page.Locator("#spec-diff tbody tr").CountAsync()).Should().BeGreaterThan(0);

        // A file-defined dashboard, and its parameter changing what is drawn.
        await page.GotoAsync(site.Web.Address + "/dashboards/learning-curves?experiment=site");
        (await Drawn(page, "[data-chart='Held-out accuracy at the chosen sight']")).Marks.Should().BeGreaterThan(10);
        await page.FillAsync("input[name=experiment]", "no-such-experiment");
        await page.ClickAsync("form.filters button");
        await page.WaitForURLAsync("**experiment=no-such-experiment**");
        (await page.Locator("svg").CountAsync()).Should().Be(0);
        (await page.Locator("text=No rows").CountAsync()).Should().Be(2);
    }

    [Fact]
    public async Task A_running_runs_page_updates_without_a_reload()
    {
        using var lab = new JobsHarness(site.Pg, leaseSeconds: 60); // the browser's start loads the machine: no lapsed lease mid-test
        var run = (await lab.Submit("live.yaml", JobsHarness.Spec("live", 400000, 1600, 1600))).Runs.Head.Id;
        await using var web = await site.StartWeb(lab);
        using var workers = lab.Jobs.StartWorkers(["cpu"], 1);
        await lab.Until(async () => await lab.Scalar<long>("select episodes_done from mannlab.runs") > 0, "training to start");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Launch(playwright);
        var page = await browser.NewPageAsync();
        var navigations = 0;
        page.FrameNavigated += (_, _) => navigations++;

        await page.GotoAsync($"{web.Address}/runs/{run}");
        var first = await page.Locator("#live p").First.InnerTextAsync();
        await page.WaitForFunctionAsync("before => document.querySelector('#live p').innerText !== before", first, new() { Timeout = 60_000 });

        navigations.Should().Be(1, "the page changed in place, without a reload");
        (await page.Locator("#live p").First.InnerTextAsync()).Should().NotBe(first).And.Contain("running");
        await lab.Jobs.CancelAsync(run);
        await lab.Until(async () => await lab.Scalar<string>("select status from mannlab.runs") == "cancelled", "the run to stop");
    }
}
