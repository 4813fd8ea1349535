using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace MannLab.Testing;

/// <summary>One plotted line of a chart's SVG: its stroke colour, the pixel points of its path, and the data area it is clipped to.</summary>
public sealed record ChartLine(string Stroke, IReadOnlyList<(double X, double Y)> Points, int Segments, int Markers,
    (double X, double Y, double Width, double Height) Area);

/// <summary>One legend entry: the name shown and the stroke colour of its sample line.</summary>
public sealed record LegendEntry(string Name, string Stroke);

/// <summary>
/// Reads what ScottPlot writes into a line chart's SVG, as XML: each plottable sits in its own
/// <c>&lt;g clip-path&gt;</c>; a line is one <c>&lt;path d="M x y L x y ..."&gt;</c> with an
/// <c>&lt;ellipse&gt;</c> per marker, and the legend is the clipped group holding text, each name
/// followed by a sample path in its line's colour.
/// </summary>
public sealed class ChartSvg
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private ChartSvg(IReadOnlyList<ChartLine> lines, IReadOnlyList<LegendEntry> legend, IReadOnlyList<string> texts) =>
        (Lines, Legend, Texts) = (lines, legend, texts);

    /// <summary>The data lines, in drawing order (the legend group is not among them).</summary>
    public IReadOnlyList<ChartLine> Lines { get; }

    public IReadOnlyList<LegendEntry> Legend { get; }

    /// <summary>Every text of the chart (title, axis labels, ticks, legend), trimmed.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The line whose colour the legend gives to <paramref name="name"/>.</summary>
    public ChartLine LineOf(string name)
    {
        var entry = Legend.Where(e => e.Name == name).ToList();
        if (entry.Count != 1) throw new InvalidOperationException($"the legend names {name} {entry.Count} times: {string.Join(", ", Legend)}");
        var lines = Lines.Where(l => l.Stroke == entry[0].Stroke).ToList();
        if (lines.Count != 1) throw new InvalidOperationException($"{lines.Count} lines have {name}'s colour {entry[0].Stroke}");
        return lines[0];
    }

    public static ChartSvg Parse(string svg)
    {
        var root = XDocument.Parse(svg).Root ?? throw new InvalidOperationException("an empty SVG");
        if (root.Name != Svg + "svg") throw new InvalidOperationException($"the root is {root.Name}, not svg");
        var clips = root.Descendants(Svg + "clipPath").ToDictionary(c => (string)c.Attribute("id")!, c => c.Element(Svg + "rect")!);
        var lines = new List<ChartLine>();
        var legend = new List<LegendEntry>();
        foreach (var group in root.Descendants(Svg + "g").Where(g => g.Attribute("clip-path") is not null))
        {
            if (group.Elements(Svg + "text").Any())
            {
                foreach (var text in group.Elements(Svg + "text"))
                {
                    var sample = text.ElementsAfterSelf(Svg + "path").FirstOrDefault()
                                 ?? throw new InvalidOperationException($"legend entry {text.Value.Trim()} has no sample line");
                    legend.Add(new LegendEntry(text.Value.Trim(), Stroke(sample)));
                }
                continue;
            }
            var id = Regex.Match((string)group.Attribute("clip-path")!, @"url\(#(.+)\)").Groups[1].Value;
            var rect = clips[id];
            var area = (Number(rect, "x"), Number(rect, "y"), Number(rect, "width"), Number(rect, "height"));
            foreach (var path in group.Elements(Svg + "path").Where(p => (string?)p.Attribute("stroke") is { } s && s != "none"))
            {
                var d = (string)path.Attribute("d")!;
                var points = Regex.Matches(d, @"[ML]\s*(-?[\d.]+(?:[eE][-+]?\d+)?)[ ,]+(-?[\d.]+(?:[eE][-+]?\d+)?)")
                    .Select(m => (Num(m.Groups[1].Value), Num(m.Groups[2].Value))).ToList();
                var markers = group.Elements(Svg + "ellipse").Count(e => string.Equals((string?)e.Attribute("fill"), Stroke(path), StringComparison.OrdinalIgnoreCase));
                lines.Add(new ChartLine(Stroke(path), points, d.Count(c => c == 'M'), markers, area));
            }
        }
        var texts = root.Descendants(Svg + "text").Select(t => t.Value.Trim()).ToList();
        return new ChartSvg(lines, legend, texts);
    }

    /// <summary>
    /// The least-squares line pixel = scale * value + offset through <paramref name="pairs"/>, and
    /// how far (in pixels) the farthest pair lies from it: near zero when one axis mapping places
    /// every point.
    /// </summary>
    public static (double Scale, double Offset, double MaxResidual) Fit(IReadOnlyList<(double Value, double Pixel)> pairs)
    {
        var mv = pairs.Average(p => p.Value);
        var mp = pairs.Average(p => p.Pixel);
        var spread = pairs.Sum(p => (p.Value - mv) * (p.Value - mv));
        if (spread == 0) throw new InvalidOperationException("all values are equal: the axis mapping cannot be fitted");
        var scale = pairs.Sum(p => (p.Value - mv) * (p.Pixel - mp)) / spread;
        var offset = mp - scale * mv;
        return (scale, offset, pairs.Max(p => Math.Abs(scale * p.Value + offset - p.Pixel)));
    }

    private static string Stroke(XElement e) => ((string?)e.Attribute("stroke") ?? "").ToUpperInvariant();

    private static double Number(XElement e, string attribute) => Num((string)e.Attribute(attribute)!);

    private static double Num(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
}
