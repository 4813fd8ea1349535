using System.Net;
using System.Text;

namespace MannLab.Web;

/// <summary>The pages' common frame and small HTML pieces; every value is encoded on the way in.</summary>
public static class Html
{
    /// <summary>A value as the pages show it: numbers to 4 significant digits, times to the second, null as nothing.</summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        double d => double.IsFinite(d) ? d.ToString("G4", System.Globalization.CultureInfo.InvariantCulture) : "",
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss"),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>A value as HTML text.</summary>
    public static string E(object? value) => WebUtility.HtmlEncode(Text(value));

    /// <summary>
    /// A whole page. With <paramref name="liveUrl"/>, the element #live is refreshed from that URL
    /// every few seconds, so a running run's page updates without a reload. Without
    /// <paramref name="site"/>, a document that stands alone (a file): no links to the site's pages.
    /// </summary>
    public static string Page(string title, string body, string? liveUrl = null, bool site = true) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>{{E(title)}} · MannLab</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
          nav { background: #1f3b57; padding: 8px 16px; } nav a { color: #fff; margin-right: 18px; text-decoration: none; font-weight: 600; }
          main { padding: 16px; } h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 24px; }
          table { border-collapse: collapse; } td, th { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; }
          th { background: #f2f4f7; } .num { text-align: right; font-variant-numeric: tabular-nums; }
          .charts { display: flex; flex-wrap: wrap; gap: 12px; } .chart { border: 1px solid #e3e6ea; }
          .error { color: #a40000; background: #fff0f0; padding: 6px 10px; border: 1px solid #f3c0c0; white-space: pre-wrap; font-family: monospace; }
          .status-running { color: #0a6ebd; } .status-succeeded { color: #177a2c; } .status-failed { color: #a40000; } .status-cancelled { color: #777; } .status-waiting { color: #9a6700; }
          pre { background: #f6f8fa; padding: 8px; max-height: 420px; overflow: auto; } form.filters > * { margin-right: 8px; }
          .diff-changed { background: #fff7d6; }
        </style></head>
        <body>{{(site ? Navigation : "")}}
        <main><h1>{{E(title)}}</h1>
        {{body}}
        </main>
        {{(liveUrl is null ? "" : $$"""
        <script>
          // Live: refresh the changing part of the page while the run is in flight.
          setInterval(async () => {
            const live = document.getElementById('live');
            if (!live || live.dataset.finished === 'true') return;
            const response = await fetch('{{liveUrl}}' + location.search, { headers: { 'X-Requested-With': 'live' } });
            if (response.ok) live.outerHTML = await response.text();
          }, 3000);
        </script>
        """)}}
        </body></html>
        """;

    private const string Navigation =
        "<nav><a href=\"/\">Runs</a><a href=\"/compare\">Compare</a><a href=\"/dashboards\">Dashboards</a><a href=\"/report\">Report</a>" +
        "<a href=\"/hangfire\">Jobs</a></nav>";

    public static string Table(IReadOnlyList<string> header, IEnumerable<IEnumerable<string>> rows, string? id = null)
    {
        var html = new StringBuilder($"<table{(id is null ? "" : $" id=\"{id}\"")}><thead><tr>");
        foreach (var h in header) html.Append($"<th>{E(h)}</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows) html.Append("<tr>").Append(string.Concat(row.Select(cell => $"<td>{cell}</td>"))).Append("</tr>");
        return html.Append("</tbody></table>").ToString();
    }

    public static string Chart(string svg, string name) => $"<div class=\"chart\" data-chart=\"{E(name)}\">{svg}</div>";

    public static string Error(string message) => $"<div class=\"error\">{E(message)}</div>";

    public static string Select(string name, string label, IEnumerable<string> options, string? selected) =>
        $"<label>{E(label)} <select name=\"{E(name)}\"><option value=\"\">all</option>" +
        string.Concat(options.Select(o => $"<option{(o == selected ? " selected" : "")}>{E(o)}</option>")) + "</select></label>";
}
