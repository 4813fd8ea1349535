using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MannLab.Drawing;
using MannLab.Runs;
using MannLab.Storage;
using Microsoft.AspNetCore.Http;
using Npgsql;
using static MannLab.Web.Html;

namespace MannLab.Web;

/// <summary>MannLab's pages: runs, one run (with its retry action), compare, and the file-defined dashboards.</summary>
/// <param name="dashboardSource">Where dashboard SQL runs: the read-only role's connection.</param>
/// <param name="retry">How the run page's Retry queues a run again (see <see cref="WebHost.StartAsync"/>).</param>
public sealed class Pages(RunQueries queries, NpgsqlDataSource dashboardSource, string dashboardsFolder, Func<string, Task<RetryResult?>> retry)
{
    private static IResult Send(string html, int status = StatusCodes.Status200OK) => Results.Content(html, "text/html; charset=utf-8", statusCode: status);

    private static bool Partial(HttpRequest request) => request.Headers["X-Requested-With"] == "live";

    public async Task<IResult> Runs(HttpRequest request)
    {
        string? Q(string name) => request.Query[name].FirstOrDefault() is { Length: > 0 } v ? v : null;
        var (experiment, tag, status, model) = (Q("experiment"), Q("tag"), Q("status"), Q("model"));
        var page = int.TryParse(Q("page"), out var p) && p > 1 ? p : 1;
        var (runs, total) = await queries.PageAsync(experiment, status, model, tag, (page - 1) * RunsPerPage, RunsPerPage);
        var live = RunsTable(runs, total, page, request);
        if (Partial(request)) return Send(live);
        var filters = $"""
            <form class="filters" method="get" action="/">
            {Select("experiment", "Experiment", await queries.DistinctAsync("experiment"), experiment)}
            {Select("tag", "Tag", await queries.DistinctAsync("tag"), tag)}
            {Select("status", "Status", RunStatus.All, status)}
            {Select("model", "Model", await queries.DistinctAsync("model"), model)}
            <button type="submit">Filter</button></form>
            <form method="get" action="/compare">{live}<p><button type="submit">Compare the selected runs</button></p></form>
            """;
        return Send(Page("Runs", filters, "/"));
    }

    /// <summary>Runs per page of the runs list: a page costs the same with 10 runs stored or 10,000.</summary>
    public const int RunsPerPage = 200;

    private static string RunsTable(IReadOnlyList<StoredRun> runs, long total, int page, HttpRequest request)
    {
        var sights = new[] { 1, 2, 5, 10 };
        var table = Table(["", "run", "experiment", "point", "model", "status", "progress", "episodes/s", .. sights.Select(RunFormat.Ordinal)],
            runs.Select(r => (IEnumerable<string>)[
                $"<input type=\"checkbox\" name=\"run\" value=\"{E(r.Id)}\">",
                $"<a href=\"/runs/{E(r.Id)}\">{E(r.Id)}</a>", E(r.Name), E(r.PointLabel), E(r.Model),
                $"<span class=\"status-{E(r.Status)}\">{E(r.Status)}</span>",
                $"<progress value=\"{r.Done.ToString("0.####", CultureInfo.InvariantCulture)}\"></progress> {E(r.EpisodesDone)}/{E(r.EpisodesTotal)}",
                $"<span class=\"num\">{E(r.Latest.GetValueOrDefault("episodes_per_second")?.ToString("F0", CultureInfo.InvariantCulture))}</span>",
                .. sights.Select(k => $"<span class=\"num\">{RunFormat.Percent(r.EvalAccuracy(k))}</span>")]), id: "runs");
        var finished = runs.All(r => r.Finished);
        var first = (page - 1) * RunsPerPage;
        var shown = total <= RunsPerPage ? $"{total} run(s)" : $"{total} run(s), {first + 1}-{first + runs.Count} shown";
        string PageLink(int to, string text)
        {
            var query = QueryString.Create(request.Query.Where(q => q.Key != "page").Append(new("page", to.ToString(CultureInfo.InvariantCulture))));
            return $"<a href=\"/{E(query.ToUriComponent())}\">{text}</a>";
        }
        var pages = (page > 1 ? " " + PageLink(page - 1, "previous") : "") + (first + runs.Count < total ? " " + PageLink(page + 1, "next") : "");
        return $"<div id=\"live\" data-finished=\"{(finished ? "true" : "false")}\"><p>{shown}{pages}</p>{table}</div>";
    }

    public async Task<IResult> Run(string id, HttpRequest request)
    {
        var run = (await queries.ListAsync(ids: [id])).SingleOrDefault();
        if (run is null) return Results.NotFound($"no run {id}");
        var detail = (await queries.DetailAsync(id))!.Value;
        var live = new StringBuilder($"<div id=\"live\" data-finished=\"{(run.Finished ? "true" : "false")}\">");
        live.Append($"<p>{E(run.Name)} [{E(run.PointLabel)}] · {E(run.Model)} · <span class=\"status-{E(run.Status)}\">{E(run.Status)}</span> · " +
                    $"{E(run.EpisodesDone)}/{E(run.EpisodesTotal)} episodes · attempt {run.Attempt}{(run.Error is null ? "" : " · " + E(run.Error.Split('\n')[0]))}</p>");
        if (run.WaitReason is not null) live.Append($"<p class=\"status-waiting\">{E(run.WaitReason)}</p>");
        if (RunStatus.IsRetryable(run.Status))
            live.Append($"<form method=\"post\" action=\"/runs/{E(id)}/retry\"><button type=\"submit\">Retry</button> " +
                        "from its last checkpoint, as a new attempt</form>");
        live.Append("<div class=\"charts\">");
        var curves = await queries.InstanceCurvesAsync(id);
        var regression = await queries.RegressionStepsAsync(id);
        if (regression.Count > 0)
        {
            live.Append(Chart(Charts.Svg(Charts.Lines("Final held-out NLL against points seen", "points seen", "negative log-likelihood", regression), 560, 340), "regression-nll"));
            var squared = await queries.RegressionStepsAsync(id, squaredError: true);
            live.Append(Chart(Charts.Svg(Charts.Lines("Final held-out squared error against points seen", "points seen", "squared error", squared), 560, 340), "regression-se"));
        }
        else
            live.Append(curves.Count == 0 ? "<p>No evaluation yet.</p>"
                : Chart(Charts.Svg(Charts.Lines("Held-out accuracy by sight", "episodes", "accuracy", curves, (0, 1)), 560, 340), "instances"));
        foreach (var bands in await queries.LatestBandsAsync(id))
            live.Append(Chart(Charts.Svg(Charts.Bands($"Held-out function after {bands.Seen} points (checkpoint of episode {bands.Episode})", bands, run.Model), 560, 340),
                $"bands-{bands.Seen}"));
        var (byClasses, _) = await queries.AccuracyByClassesAsync(id);
        if (byClasses.Count > 0)
            live.Append(Chart(Charts.Svg(Charts.Lines("Final held-out accuracy against classes, by sight", "classes", "accuracy", byClasses, (0, 1)), 560, 340), "classes"));
        var curriculum = await queries.MetricCurvesAsync(id, Metric.CurriculumClasses);
        if (curriculum.Count > 0) live.Append(Chart(Charts.Svg(Charts.Lines("Curriculum: classes of the training episodes", "episodes", "classes", curriculum), 560, 340), "curriculum"));
        var loss = await queries.MetricCurvesAsync(id, "train_loss", "eval_loss");
        if (loss.Count > 0) live.Append(Chart(Charts.Svg(Charts.Lines("Loss", "episodes", "loss", loss), 560, 340), "loss"));
        var speed = await queries.MetricCurvesAsync(id, "episodes_per_second");
        if (speed.Count > 0) live.Append(Chart(Charts.Svg(Charts.Lines("Throughput", "episodes", "episodes / s", speed), 560, 340), "throughput"));
        live.Append("</div>");
        var steps = await queries.MemoryStepsAsync(id);
        if (steps.Count > 0)
        {
            var shown = long.TryParse(request.Query["memory"].FirstOrDefault(), out var asked) && steps.Contains(asked) ? asked : steps[^1];
            live.Append($"<h2>Memory at the checkpoint of episode {shown}</h2><p>Read, write and usage weights over the first held-out episode " +
                        "(slot against step). Checkpoints: " +
                        string.Join(" ", steps.Select(s => s == shown ? $"<b>{s}</b>" : $"<a href=\"?memory={s}\">{s}</a>")) + "</p>" +
                        $"<img alt=\"memory heatmaps\" src=\"/runs/{E(id)}/memory/{shown}.png\" width=\"900\">");
        }
        live.Append("</div>");
        if (Partial(request)) return Send(live.ToString());
        var body = live + $"""
            <h2>Environment</h2>{Vertical(detail.Environment)}
            <h2>Attempts</h2>{Rows(detail.Attempts)}
            <h2>Resolved spec</h2><pre>{E(detail.Spec)}</pre>
            <p><a href="/compare?run={E(id)}">Compare with other runs</a></p>
            """;
        return Send(Page($"Run {id}", body, $"/runs/{id}"));
    }

    /// <summary>The run page's Retry: the same retry as <c>mannlab retry</c>; back to the run page, or why it was not retried.</summary>
    public async Task<IResult> Retry(string id)
    {
        var result = await retry(id);
        return result switch
        {
            null => Results.NotFound($"no run {id}"),
            RetryResult.Queued => Results.Redirect($"/runs/{Uri.EscapeDataString(id)}"),
            _ => Send(Page($"Run {id}", $"<p>Run {E(id)}: {E(result)}.</p><p><a href=\"/runs/{E(id)}\">Back to the run</a></p>"),
                StatusCodes.Status409Conflict),
        };
    }

    public async Task<IResult> Memory(string id, long step) =>
        await queries.MemoryPictureAsync(id, step) is { } png ? Results.File(png, "image/png") : Results.NotFound($"run {id} has no memory picture at episode {step}");

    public async Task<IResult> Compare(HttpRequest request)
    {
        var ids = request.Query["run"].Where(r => !string.IsNullOrEmpty(r)).Select(r => r!).Distinct().ToList();
        var runs = ids.Count == 0 ? [] : await queries.ListAsync(ids: ids);
        if (runs.Count == 0)
        {
            var (first, total) = await queries.PageAsync(null, null, null, null, 0, RunsPerPage);
            return Send(Page("Compare", "<p>Select runs on the <a href=\"/\">runs page</a> and press Compare, or open /compare?run=ID&amp;run=ID.</p>" +
                                        $"<form method=\"get\" action=\"/compare\">{RunsTable(first, total, 1, request)}<p><button type=\"submit\">Compare</button></p></form>"));
        }
        var body = new StringBuilder("<div class=\"charts\">");
        var finals = new List<Series>();
        foreach (var run in runs)
        {
            var label = $"{run.Id} {run.Name} {run.PointLabel}".Trim();
            var curves = await queries.InstanceCurvesAsync(run.Id);
            body.Append(curves.Count == 0 ? $"<p>{E(label)}: no evaluation yet</p>"
                : Chart(Charts.Svg(Charts.Lines(label, "episodes", "accuracy", curves, (0, 1)), 460, 300), "curves-" + run.Id));
            if (await queries.FinalInstancesAsync(run.Id, label) is { } final) finals.Add(final);
        }
        body.Append("</div>");
        if (finals.Count > 0)
            body.Append(Chart(Charts.Svg(Charts.Lines("Final held-out accuracy by sight", "instance", "accuracy", finals, (0, 1)), 760, 360), "final"));
        body.Append("<h2>Spec differences</h2>").Append(await SpecDiff(runs));
        return Send(Page("Compare", body.ToString()));
    }

    private async Task<string> SpecDiff(IReadOnlyList<StoredRun> runs)
    {
        var flat = new List<Dictionary<string, string>>();
        foreach (var run in runs) flat.Add(Flatten(JsonNode.Parse(await queries.SpecJsonAsync(run.Id))!));
        var paths = flat.SelectMany(f => f.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var differing = paths.Where(p => flat.Select(f => f.GetValueOrDefault(p, "")).Distinct().Count() > 1).ToList();
        if (runs.Count < 2) return "<p>Select two or more runs to see how their specs differ.</p>";
        if (differing.Count == 0) return "<p>The specs are identical.</p>";
        return Table(["field", .. runs.Select(r => r.Id)],
            differing.Select(p => (IEnumerable<string>)[E(p), .. flat.Select(f => $"<span class=\"diff-changed\">{E(f.GetValueOrDefault(p, "—"))}</span>")]), id: "spec-diff");
    }

    private static Dictionary<string, string> Flatten(JsonNode node, string prefix = "", Dictionary<string, string>? into = null)
    {
        into ??= [];
        if (node is JsonObject o)
            foreach (var (key, value) in o)
                if (value is null) into[prefix + key] = "null";
                else Flatten(value, prefix + key + ".", into);
        else into[prefix.TrimEnd('.')] = node.ToJsonString();
        return into;
    }

    /// <summary>The reproduction report (<see cref="PaperReport"/>), as of now.</summary>
    public async Task<IResult> Report() => Send(PaperReport.Html(await queries.PaperReportAsync(), DateTimeOffset.UtcNow, site: true));

    public IResult DashboardList()
    {
        var dashboards = Dashboards.Load(dashboardsFolder);
        var list = dashboards.Count == 0 ? $"<p>No dashboards in {E(dashboardsFolder)}.</p>"
            : "<ul>" + string.Concat(dashboards.Select(d => $"<li><a href=\"/dashboards/{E(d.Slug)}\">{E(d.Title)}</a>" +
                                                            (d.Error is null ? "" : " (does not read)") + "</li>")) + "</ul>";
        return Send(Page("Dashboards", list + $"<p>Each YAML file in <code>{E(dashboardsFolder)}</code> is a dashboard; see its README.</p>"));
    }

    public async Task<IResult> Dashboard(string slug, HttpRequest request)
    {
        var dashboard = Dashboards.Load(dashboardsFolder).FirstOrDefault(d => d.Slug == slug);
        if (dashboard is null) return Results.NotFound($"no dashboard {slug}");
        if (dashboard.Error is not null) return Send(Page(dashboard.Title, Error(dashboard.Error)));
        var values = dashboard.Parameters.ToDictionary(p => p.Name,
            p => (object?)(request.Query[p.Name].FirstOrDefault() is { Length: > 0 } given ? given : p.Default));
        var body = new StringBuilder();
        if (dashboard.Description is not null) body.Append($"<p>{E(dashboard.Description)}</p>");
        if (dashboard.Parameters.Count > 0)
            body.Append("<form class=\"filters\" method=\"get\">")
                .Append(string.Concat(dashboard.Parameters.Select(p => $"<label>{E(p.Label)} <input name=\"{E(p.Name)}\" value=\"{E(values[p.Name])}\"></label>")))
                .Append("<button type=\"submit\">Apply</button></form>");
        body.Append("<div class=\"charts\">");
        foreach (var panel in dashboard.Panels)
        {
            body.Append($"<section class=\"panel\"><h2>{E(panel.Title)}</h2>");
            if (panel.Error is not null)
            {
                body.Append(Error(panel.Error)).Append("</section>");
                continue;
            }
            try
            {
                var result = await QueryResult.ReadOnlyAsync(dashboardSource, panel.Sql, values);
                body.Append(PanelView.Render(panel, result));
            }
            catch (Exception e) when (e is Npgsql.PostgresException or ArgumentException or FormatException or InvalidCastException)
            {
                body.Append(Error($"{dashboard.File}: panel '{panel.Title}': {e.Message}"));
            }
            body.Append("</section>");
        }
        body.Append("</div>");
        return Send(Page(dashboard.Title, body.ToString()));
    }

    private static string Vertical(QueryResult result) => result.Rows.Count == 0 ? "" :
        Table(["field", "value"], result.Columns.Select((c, i) => (IEnumerable<string>)[E(c), E(result.Rows[0][i])]));

    public static string Rows(QueryResult result) => result.Rows.Count == 0 ? "<p>none</p>" :
        Table(result.Columns, result.Rows.Select(r => r.Select(v => v is double or float or decimal or int or long ? $"<span class=\"num\">{E(v)}</span>" : E(v))));
}
