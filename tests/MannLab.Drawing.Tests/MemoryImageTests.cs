using SkiaSharp;

namespace MannLab.Drawing.Tests;

/// <summary>
/// <see cref="MemoryImage.Png"/> of known traces, decoded and read back pixel by pixel. The heatmap
/// cells are found by their colours (Viridis, as MemoryImage draws them), not at fixed
/// coordinates, so a change of font or margins does not break the tests.
/// </summary>
public class MemoryImageTests
{
    private const int Slots = 8;
    private static readonly ScottPlot.Colormaps.Viridis Viridis = new();
    private static readonly SKColor Low = Colour(0), High = Colour(1);

    private static SKColor Colour(double fraction)
    {
        var c = Viridis.GetColor(fraction);
        return new SKColor(c.R, c.G, c.B);
    }

    /// <summary>
    /// One head; at step t it writes only slot t, reads only slot (t + 1) mod N, and usage is 1 on the
    /// slots written so far (s &lt;= t): a diagonal, a shifted diagonal and a lower triangle, so a swapped,
    /// transposed or flipped panel shows the wrong one.
    /// </summary>
    private static List<(float[,] Read, float[,] Write, float[]? Usage)> KnownTrace() =>
    [
        .. Enumerable.Range(0, Slots).Select(t =>
        {
            var read = new float[1, Slots];
            var write = new float[1, Slots];
            var usage = new float[Slots];
            read[0, (t + 1) % Slots] = 1;
            write[0, t] = 1;
            for (var s = 0; s <= t; s++) usage[s] = 1;
            return (read, write, (float[]?)usage);
        }),
    ];

    [Fact]
    public void The_write_panel_shows_the_write_diagonal_and_the_read_and_usage_panels_their_own_patterns()
    {
        // First sights at steps 0 and 3: their red lines cross the panels, as in a real episode.
        var png = MemoryImage.Png(KnownTrace(), [1, 1, 2, 1, 2, 3, 2, 4], "known trace");

        var panels = Heatmaps(png, [Low, High]);

        panels.Should().HaveCount(3, "read, write and usage, top to bottom");
        ShouldShow(panels[0], "read", (t, s) => s == (t + 1) % Slots);
        ShouldShow(panels[1], "write", (t, s) => s == t);
        ShouldShow(panels[2], "usage", (t, s) => s <= t);
    }

    [Fact]
    public void Without_usage_there_are_two_panels_and_weights_are_summed_over_heads()
    {
        // Two heads: both write slot t, the second also slot t + 1; the sums are 2, 1 and 0, so the
        // colour scale (min to max) puts slot t at the top colour and slot t + 1 halfway.
        var steps = Enumerable.Range(0, Slots).Select(t =>
        {
            var read = new float[2, Slots];
            var write = new float[2, Slots];
            read[1, (Slots - 1 - t)] = 1;
            write[0, t] = 1;
            write[1, t] = 1;
            write[1, (t + 1) % Slots] = 1;
            return (read, write, (float[]?)null);
        }).ToList();
        var mid = Colour(0.5);

        var panels = Heatmaps(MemoryImage.Png(steps, [.. Enumerable.Repeat(2, Slots)], "two heads"), [Low, mid, High]);

        panels.Should().HaveCount(2, "read and write; no usage without LRUA");
        ShouldShow(panels[0], "read (the second head's anti-diagonal)", (t, s) => s == Slots - 1 - t);
        for (var t = 0; t < Slots; t++)
            for (var s = 0; s < Slots; s++)
            {
                var expected = s == t ? High : s == (t + 1) % Slots ? mid : Low;
                panels[1].Cell(t, s).Should().Match<SKColor>(c => Near(c, expected, 6), $"write at step {t}, slot {s} should be {expected}");
            }
    }

    private static void ShouldShow(Heatmap panel, string name, Func<int, int, bool> high)
    {
        panel.Columns.Should().Be(Slots, $"{name}: one column per step");
        panel.Rows.Should().Be(Slots, $"{name}: one row per slot");
        (panel.Right - panel.Left).Should().BeGreaterThan(Slots * 20, $"{name}: the heatmap spans most of the width");
        (panel.Bottom - panel.Top).Should().BeGreaterThan(Slots * 10, $"{name}: the heatmap spans most of the panel's height");
        var wrong = new List<string>();
        for (var t = 0; t < Slots; t++)
            for (var s = 0; s < Slots; s++)
            {
                var expected = high(t, s) ? High : Low;
                var seen = panel.Cell(t, s);
                if (!Near(seen, expected, 3)) wrong.Add($"step {t} slot {s}: {seen}, expected {(high(t, s) ? "high" : "low")} {expected}");
            }
        string.Join("; ", wrong).Should().BeEmpty($"the {name} panel shows the trace's pattern ({wrong.Count} of {Slots * Slots} cells wrong)");
    }

    private static bool Near(SKColor a, SKColor b, int tolerance) =>
        Math.Abs(a.Red - b.Red) <= tolerance && Math.Abs(a.Green - b.Green) <= tolerance && Math.Abs(a.Blue - b.Blue) <= tolerance;

    /// <summary>
    /// A heatmap found in the image: the box of pixels in the colormap's colours. Steps run left to
    /// right and, as MemoryImage flips the heatmap, slot 0 is the bottom row.
    /// </summary>
    private sealed record Heatmap(SKBitmap Image, int Left, int Top, int Right, int Bottom, int Columns, int Rows)
    {
        /// <summary>The colour of (step, slot), sampled a quarter of a cell either side of the centre (a first sight's red line runs through the centre).</summary>
        public SKColor Cell(int step, int slot)
        {
            var width = (Right - Left) / (double)Columns;
            var height = (Bottom - Top) / (double)Rows;
            var y = (int)(Top + (Rows - 1 - slot + 0.5) * height);
            var left = Image.GetPixel((int)(Left + (step + 0.25) * width), y);
            var right = Image.GetPixel((int)(Left + (step + 0.75) * width), y);
            return left == right ? left : throw new InvalidOperationException($"cell ({step}, {slot}) is not one colour: {left} and {right}");
        }
    }

    /// <summary>
    /// Finds the heatmaps top to bottom: bands of rows that are mostly colormap colours, and within
    /// each band the columns that are (which leaves out the narrow colour bar beside it). The box
    /// found is divided into steps by slots cells.
    /// </summary>
    private static List<Heatmap> Heatmaps(byte[] png, SKColor[] palette)
    {
        var image = SKBitmap.Decode(png) ?? throw new InvalidOperationException("not a PNG");
        bool InPalette(int x, int y) => palette.Any(c => Near(image.GetPixel(x, y), c, 3));
        var rowCounts = Enumerable.Range(0, image.Height).Select(y => Enumerable.Range(0, image.Width).Count(x => InPalette(x, y))).ToArray();
        var bands = new List<(int Top, int Bottom)>();
        for (var y = 0; y < image.Height; y++)
        {
            if (rowCounts[y] < image.Width / 3) continue;
            var top = y;
            while (y < image.Height && rowCounts[y] >= image.Width / 3) y++;
            bands.Add((top, y));
        }
        return [.. bands.Select(b =>
        {
            var columns = Enumerable.Range(0, image.Width).Where(x => Enumerable.Range(b.Top, b.Bottom - b.Top).Count(y => InPalette(x, y)) > (b.Bottom - b.Top) / 2).ToList();
            return new Heatmap(image, columns[0], b.Top, columns[^1] + 1, b.Bottom, Slots, Slots);
        })];
    }
}
