using MannLab.Drawing;
using MannLab.Runs;
using MannLab.Storage;
using static MannLab.Web.Html;

namespace MannLab.Web;

/// <summary>A dashboard panel's query result drawn as its chart kind.</summary>
public static class PanelView
{
    public static string Render(Panel panel, QueryResult result)
    {
        if (panel.Chart == ChartKind.Table) return Pages.Rows(result);
        if (result.Rows.Count == 0) return "<p>No rows.</p>";
        int x = result.Column(panel.X!), y = result.Column(panel.Y!);
        int? series = panel.Series is null ? null : result.Column(panel.Series);
        string SeriesOf(object?[] row) => series is { } s ? Convert.ToString(row[s]) ?? "null" : panel.Y!;
        var svg = panel.Chart switch
        {
            ChartKind.Line => Charts.Svg(Charts.Lines(panel.Title, panel.X!, panel.Y!,
                result.Rows.GroupBy(SeriesOf).Select(g => new Series(g.Key, [.. g.Select(r => Number(r[x]))], [.. g.Select(r => Number(r[y]))])))),
            ChartKind.Bar => Bars(panel, result, x, y, SeriesOf),
            ChartKind.Heatmap => Heatmap(panel, result, x, y, result.Column(panel.Value!)),
            _ => throw new ArgumentOutOfRangeException(nameof(panel)),
        };
        return Chart(svg, panel.Title);
    }

    private static string Bars(Panel panel, QueryResult result, int x, int y, Func<object?[], string> seriesOf)
    {
        var categories = result.Rows.Select(r => Label(r[x])).Distinct().ToList();
        var series = result.Rows.GroupBy(seriesOf).Select(g =>
        {
            var byCategory = g.ToDictionary(r => Label(r[x]), r => Number(r[y]));
            return new Series(g.Key, [.. categories.Select((_, i) => (double)i)], [.. categories.Select(c => byCategory.GetValueOrDefault(c, double.NaN))]);
        }).ToList();
        return Charts.Svg(Charts.Bars(panel.Title, panel.Y!, categories, series));
    }

    private static string Heatmap(Panel panel, QueryResult result, int x, int y, int value)
    {
        var columns = result.Rows.Select(r => Label(r[x])).Distinct().ToList();
        var rows = result.Rows.Select(r => Label(r[y])).Distinct().ToList();
        var grid = new double[rows.Count, columns.Count];
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < columns.Count; j++) grid[i, j] = double.NaN;
        foreach (var r in result.Rows) grid[rows.IndexOf(Label(r[y])), columns.IndexOf(Label(r[x]))] = Number(r[value]);
        return Charts.Svg(Charts.Heatmap(panel.Title, panel.X!, panel.Y!, grid, columns, rows));
    }

    private static string Label(object? value) => Text(value) is { Length: > 0 } text ? text : "null";

    private static double Number(object? value) => value is null ? double.NaN : Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
}
