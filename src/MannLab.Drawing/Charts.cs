using MannLab.Runs;
using ScottPlot;

namespace MannLab.Drawing;

/// <summary>
/// The charts MannLab shows in the browser and exports for papers, drawn by ScottPlot: lines
/// (learning curves, per-instance accuracy), grouped bars and heatmaps. The same plot gives SVG
/// for pages and PNG or SVG files at print size.
/// </summary>
public static class Charts
{
    /// <summary>Series names up to this long put the legend right of the data; longer ones put it below.</summary>
    private const int LongestBesideTheData = 24;

    public static Plot Lines(string title, string xLabel, string yLabel, IEnumerable<Series> series, (double Min, double Max)? yRange = null)
    {
        var plot = New(title, xLabel, yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        var i = 0;
        var longest = 0;
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X.ToArray(), s.Y.ToArray(), palette.GetColor(i++));
            line.LegendText = s.Name;
            line.MarkerSize = s.X.Count > 60 ? 0 : 4;
            line.LineWidth = 2;
            longest = Math.Max(longest, s.Name.Length);
        }
        // Beside the data, a legend of long names (a run's experiment, point and id) took half the width.
        if (i > 1) plot.ShowLegend(longest > LongestBesideTheData ? Edge.Bottom : Edge.Right);
        if (yRange is { } r) plot.Axes.SetLimitsY(r.Min, r.Max);
        return plot;
    }

    /// <summary>Bars per category; several series are drawn side by side within each category.</summary>
    public static Plot Bars(string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<Series> series)
    {
        var plot = New(title, "", yLabel);
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / Math.Max(1, series.Count);
        for (var s = 0; s < series.Count; s++)
        {
            var bars = series[s].Y.Select((y, c) => new Bar
            {
                Position = c + (s - (series.Count - 1) / 2.0) * width,
                Value = double.IsFinite(y) ? y : 0,
                Size = width * 0.95,
                FillColor = palette.GetColor(s),
            }).ToList();
            var plotted = plot.Add.Bars(bars);
            plotted.LegendText = series[s].Name;
        }
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, categories.Count).Select(c => (double)c)], [.. categories]);
        plot.Axes.Margins(bottom: 0);
        if (series.Count > 1) plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>A heatmap of <paramref name="values"/>[row, column], rows labelled top to bottom.</summary>
    public static Plot Heatmap(string title, string xLabel, string yLabel, double[,] values, IReadOnlyList<string>? columns = null,
        IReadOnlyList<string>? rows = null)
    {
        var plot = New(title, xLabel, yLabel);
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        if (columns is not null)
            plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, columns.Count).Select(c => (double)c)], [.. columns]);
        if (rows is not null)
            plot.Axes.Left.SetTicks([.. Enumerable.Range(0, rows.Count).Select(r => (double)(rows.Count - 1 - r))], [.. rows]);
        return plot;
    }

    /// <summary>
    /// A 1-D regression's predictions after some points seen: the function, the points, and the
    /// model's and the GP posterior's predictive means with bands of two standard deviations.
    /// </summary>
    public static Plot Bands(string title, RegressionBands b, string modelName = "model")
    {
        var plot = New(title, "x", "y");
        var palette = new ScottPlot.Palettes.Category10();
        void Predictive(string name, double[] mean, double[] variance, Color color)
        {
            var sd = variance.Select(Math.Sqrt).ToArray();
            var band = plot.Add.FillY(b.Grid, [.. mean.Select((m, i) => m - 2 * sd[i])], [.. mean.Select((m, i) => m + 2 * sd[i])]);
            band.FillColor = color.WithAlpha(0.18);
            band.LineWidth = 0;
            var line = plot.Add.ScatterLine(b.Grid, mean, color);
            line.LineWidth = 2;
            line.LegendText = $"{name} mean ± 2 sd";
        }
        Predictive("GP posterior", b.GpMean, b.GpVariance, palette.GetColor(1));
        Predictive(modelName, b.ModelMean, b.ModelVariance, palette.GetColor(0));
        var function = plot.Add.ScatterLine(b.Grid, b.Function, Colors.Black);
        function.LinePattern = LinePattern.Dashed;
        function.LegendText = "the function";
        var seen = plot.Add.ScatterPoints(b.SeenX, b.SeenY, Colors.Black);
        seen.MarkerSize = 9;
        seen.LegendText = $"the {b.Seen} points seen";
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    public static string Svg(Plot plot, int width = 720, int height = 360) => plot.GetSvgXml(width, height);

    public static byte[] Png(Plot plot, int width, int height) => plot.GetImageBytes(width, height, ImageFormat.Png);

    /// <summary>Saves as PNG or SVG, by the file's extension.</summary>
    public static void Save(Plot plot, string file, int width, int height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        switch (Path.GetExtension(file).ToLowerInvariant())
        {
            case ".png": plot.SavePng(file, width, height); break;
            case ".svg": plot.SaveSvg(file, width, height); break;
            default: throw new ArgumentException($"{file}: expected a .png or .svg file");
        }
    }

    private static Plot New(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }
}
