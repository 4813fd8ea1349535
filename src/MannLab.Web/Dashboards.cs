using MannLab.Spec;
using Node = MannLab.Spec.Yaml.Node;

namespace MannLab.Web;

public enum ChartKind { Line, Bar, Table, Heatmap }

/// <summary>One panel of a dashboard: a SQL query, its chart, and which columns the chart reads.</summary>
public sealed record Panel(string Title, string Sql, ChartKind? Chart, string? Error, string? X, string? Y, string? Series, string? Value);

/// <summary>A dashboard parameter: the query-string value, else its default, bound as a SQL parameter (@name).</summary>
public sealed record DashboardParameter(string Name, string Default, string Label);

/// <summary>A dashboard file: a title, parameters and panels; or the reason it could not be read.</summary>
public sealed record Dashboard(string Slug, string File, string Title, string? Description, IReadOnlyList<DashboardParameter> Parameters,
    IReadOnlyList<Panel> Panels, string? Error);

/// <summary>
/// Dashboards defined by YAML files in dashboards/: a researcher adds one by dropping in a file. A
/// file that does not read is shown as its error (file:line:col); a panel with an unknown chart
/// kind or a missing field is shown as that panel's error; the rest of the site is unaffected.
/// </summary>
public static class Dashboards
{
    private static readonly string[] PanelKeys = ["title", "chart", "sql", "x", "y", "series", "value"];

    public static IReadOnlyList<Dashboard> Load(string folder) => Directory.Exists(folder)
        ? [.. Directory.EnumerateFiles(folder, "*.y*ml", SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal).Select(LoadFile)]
        : [];

    /// <summary>
    /// Reads a dashboard through the spec language's YAML front end (<see cref="Yaml.parse"/>), so a
    /// syntax error or a duplicate key is reported where it is, worded as for a spec.
    /// </summary>
    public static Dashboard LoadFile(string file)
    {
        var slug = Path.GetFileNameWithoutExtension(file);
        string text;
        try { text = File.ReadAllText(file); }
        catch (IOException e) { return Broken(slug, file, $"{file}:1:1: error: cannot read the file: {e.Message}"); }
        var parsed = Yaml.parse(text);
        if (parsed.IsError)
            return Broken(slug, file, string.Join("\n", parsed.ErrorValue.Select(p => new SpecError(file, p.Pos, p.Path, p.Message).ToString())));
        if (parsed.ResultValue?.Value is not Node.Mapping root)
            return Broken(slug, file, $"{file}:1:1: error: a dashboard is a mapping with title and panels");
        var title = Text(root, "title");
        if (title is null) return Broken(slug, file, $"{file}:{Where(root)}: error: title is missing");
        var parameters = new List<DashboardParameter>();
        if (Child(root, "parameters") is Node.Mapping ps)
            foreach (var entry in ps.entries)
            {
                var name = entry.Key;
                if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z_][a-z0-9_]*$"))
                    return Broken(slug, file, $"{file}:{Where(entry.KeyPos)}: error: parameters.{name}: names are lower-case letters, digits and _");
                if (entry.Value is Node.Mapping p)
                    parameters.Add(new DashboardParameter(name, Text(p, "default") ?? "", Text(p, "label") ?? name));
                else if (entry.Value is Node.Scalar value)
                    parameters.Add(new DashboardParameter(name, Yaml.isNull(value) ? "" : value.text, name));
                else
                    return Broken(slug, file, $"{file}:{Where(entry.Value)}: error: parameters.{name}: a default value, or {{default: ..., label: ...}}");
            }
        if (Child(root, "panels") is not Node.Sequence panels)
            return Broken(slug, file, $"{file}:{Where(root)}: error: panels is missing (a list of panels)");
        return new Dashboard(slug, file, title, Text(root, "description"), parameters,
            [.. panels.items.Select((node, i) => ReadPanel(file, node, i))], null);
    }

    private static Panel ReadPanel(string file, Node node, int index)
    {
        if (node is not Node.Mapping panel) return new Panel($"panel {index + 1}", "", null, $"{file}:{Where(node)}: error: a panel is a mapping", null, null, null, null);
        var title = Text(panel, "title") ?? $"panel {index + 1}";
        string? error = null;
        foreach (var entry in panel.entries)
            if (!PanelKeys.Contains(entry.Key)) error ??= $"{file}:{Where(entry.KeyPos)}: error: panels[{index}].{entry.Key}: unknown key (expected {string.Join(", ", PanelKeys)})";
        var sql = Text(panel, "sql");
        if (sql is null) error ??= $"{file}:{Where(panel)}: error: panels[{index}].sql is missing";
        ChartKind? chart = Text(panel, "chart") switch
        {
            "line" => ChartKind.Line,
            "bar" => ChartKind.Bar,
            "table" => ChartKind.Table,
            "heatmap" => ChartKind.Heatmap,
            _ => null,
        };
        if (chart is null)
            error ??= $"{file}:{Where(Child(panel, "chart") ?? panel)}: error: panels[{index}].chart: '{Text(panel, "chart")}' is not a chart kind (line, bar, table, heatmap)";
        string? x = Text(panel, "x"), y = Text(panel, "y");
        if (chart is ChartKind.Line or ChartKind.Bar or ChartKind.Heatmap && (x is null || y is null))
            error ??= $"{file}:{Where(panel)}: error: panels[{index}]: a {Text(panel, "chart")} chart needs x and y (column names)";
        if (chart is ChartKind.Heatmap && Text(panel, "value") is null)
            error ??= $"{file}:{Where(panel)}: error: panels[{index}]: a heatmap needs value (a column name)";
        return new Panel(title, sql ?? "", chart, error, x, y, Text(panel, "series"), Text(panel, "value"));
    }

    private static Dashboard Broken(string slug, string file, string error) => new(slug, file, slug, null, [], [], error);

    private static Node? Child(Node.Mapping map, string key) => map.entries.FirstOrDefault(e => e.Key == key)?.Value;

    private static string? Text(Node.Mapping map, string key) => Child(map, key) is Node.Scalar s && !Yaml.isNull(s) ? s.text : null;

    private static string Where(Node node) => Where(Yaml.posOf(node));

    private static string Where(Position position) => $"{position.Line}:{position.Column}";
}
