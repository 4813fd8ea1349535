using ScottPlot;
using SkiaSharp;

namespace MannLab.Drawing;

/// <summary>
/// Memory at work in one episode: heatmaps of the read weights, the write weights (both summed
/// over heads) and LRUA's usage weights, slot against step, with the episode's first sights marked,
/// so a user can see slots being bound to new classes and read again at later sights.
/// </summary>
public static class MemoryImage
{
    /// <param name="steps">Per step: [heads, slots] read and write weights, and [slots] usage (null without LRUA).</param>
    /// <param name="instances">Per step: the instance index (1 = a class's first sight).</param>
    public static byte[] Png(IReadOnlyList<(float[,] Read, float[,] Write, float[]? Usage)> steps, int[] instances, string title,
        int width = 1100, int panelHeight = 300)
    {
        var slots = steps[0].Read.GetLength(1);
        double[,] Panel(Func<int, int, double> value)
        {
            var data = new double[slots, steps.Count];
            for (var t = 0; t < steps.Count; t++)
                for (var s = 0; s < slots; s++)
                    data[s, t] = value(t, s);
            return data;
        }
        static double SumHeads(float[,] weights, int slot)
        {
            double sum = 0;
            for (var h = 0; h < weights.GetLength(0); h++) sum += weights[h, slot];
            return sum;
        }
        var panels = new List<(string Name, double[,] Data)>
        {
            ("read weights w^r (sum over heads)", Panel((t, s) => SumHeads(steps[t].Read, s))),
            ("write weights w^w (sum over heads)", Panel((t, s) => SumHeads(steps[t].Write, s))),
        };
        if (steps[0].Usage is not null) panels.Add(("usage weights w^u", Panel((t, s) => steps[t].Usage![s])));

        using var surface = SKSurface.Create(new SKImageInfo(width, 40 + panels.Count * panelHeight));
        surface.Canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default, 15);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        surface.Canvas.DrawText(title, 10, 24, font, ink);
        for (var p = 0; p < panels.Count; p++)
        {
            var plot = new Plot();
            var heatmap = plot.Add.Heatmap(panels[p].Data);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.FlipVertically = true; // slot 0 at the bottom
            plot.Add.ColorBar(heatmap);
            foreach (var t in Enumerable.Range(0, instances.Length).Where(t => instances[t] == 1))
            {
                var line = plot.Add.VerticalLine(t);
                line.Color = Colors.Red.WithAlpha(0.5);
                line.LineWidth = 1;
            }
            plot.Title(panels[p].Name + (p == 0 ? "  (red: a class's first sight)" : ""));
            plot.XLabel("step");
            plot.YLabel("slot");
            using var image = SKBitmap.Decode(plot.GetImageBytes(width, panelHeight, ImageFormat.Png));
            surface.Canvas.DrawBitmap(image, 0, 40 + p * panelHeight);
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }
}
