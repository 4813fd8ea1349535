using SkiaSharp;
using MannLab.Spec;

namespace MannLab.Data;

/// <summary>
/// Synthetic glyphs: alphabets of stroke-based characters drawn by simulated drawers. Each
/// alphabet has its own stroke primitives and pen, so its characters resemble each other; each
/// drawer adds motor noise (jittered control points, stroke width, a small affine change). Drawn
/// white-on-black at Omniglot's 105x105 and area-downscaled like Omniglot. Deterministic by seed.
/// </summary>
public static class GlyphGenerator
{
    /// <summary>The first 60% of alphabets form the "background" subset, like Omniglot's 30 of 50.</summary>
    public const string Background = "synthetic_background", Evaluation = "synthetic_evaluation";

    private const int Canvas = OmniglotReader.NativeSize;

    private sealed record Stroke(SKPoint[] Points); // cubic Bezier: 4 control points in unit coordinates

    public static GlyphSet Generate(SyntheticGlyphs glyphs, int imageSize)
    {
        var background = (int)Math.Ceiling(glyphs.Alphabets * 0.6);
        var characters = new List<Character>();
        for (var a = 0; a < glyphs.Alphabets; a++)
            for (var c = 0; c < glyphs.CharactersPerAlphabet; c++)
                characters.Add(new Character(a < background ? Background : Evaluation, $"Synthetic_{a:D2}", $"character{c + 1:D2}",
                    characters.Count * glyphs.Drawers, glyphs.Drawers));

        var n = imageSize * imageSize;
        var pixels = new float[characters.Count * glyphs.Drawers * n];
        Parallel.For(0, characters.Count, () => SKSurface.Create(new SKImageInfo(Canvas, Canvas, SKColorType.Rgba8888, SKAlphaType.Premul)),
            (index, _, surface) =>
            {
                int a = index / glyphs.CharactersPerAlphabet, c = index % glyphs.CharactersPerAlphabet;
                var (primitives, width) = Alphabet(glyphs.Seed, a);
                var strokes = CharacterStrokes(glyphs.Seed, a, c, primitives);
                for (var d = 0; d < glyphs.Drawers; d++)
                {
                    var ink = Draw(surface, strokes, width, DetRandom.For(glyphs.Seed, 3, a, c, d));
                    OmniglotReader.Preprocess(ink, imageSize).CopyTo(pixels, (index * glyphs.Drawers + d) * n);
                }
                return surface;
            },
            surface => surface.Dispose());
        return new GlyphSet($"synthetic glyphs ({glyphs.Alphabets} alphabets x {glyphs.CharactersPerAlphabet} characters x {glyphs.Drawers} drawers, seed {glyphs.Seed})",
            synthetic: true, imageSize, characters, pixels);
    }

    private static (Stroke[] Primitives, float Width) Alphabet(int seed, int alphabet)
    {
        var rng = DetRandom.For(seed, 1, alphabet);
        var primitives = new Stroke[8];
        for (var i = 0; i < primitives.Length; i++)
            primitives[i] = new Stroke([.. Enumerable.Range(0, 4).Select(_ => new SKPoint((float)(0.2 + 0.6 * rng.NextDouble()), (float)(0.2 + 0.6 * rng.NextDouble())))]);
        return (primitives, (float)(0.035 + 0.025 * rng.NextDouble()));
    }

    private static Stroke[] CharacterStrokes(int seed, int alphabet, int character, Stroke[] primitives)
    {
        var rng = DetRandom.For(seed, 2, alphabet, character);
        var strokes = new Stroke[2 + rng.Next(3)];
        for (var s = 0; s < strokes.Length; s++)
        {
            var primitive = primitives[rng.Next(primitives.Length)];
            var matrix = Around(rng.Symmetric(Math.PI / 3), 0.5 + 0.5 * rng.NextDouble(), 0, rng.Symmetric(0.2), rng.Symmetric(0.2));
            strokes[s] = new Stroke([.. primitive.Points.Select(p => Clamp(matrix.MapPoint(p)))]);
        }
        return strokes;
    }

    /// <summary>One drawer's rendition: motor noise on every control point, pen width, and a small affine change.</summary>
    private static float[] Draw(SKSurface surface, Stroke[] strokes, float width, DetRandom rng)
    {
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.Black);
        var pen = width * (float)(0.75 + 0.55 * rng.NextDouble());
        var drawer = Around(rng.Symmetric(0.12), 0.88 + 0.24 * rng.NextDouble(), rng.Symmetric(0.12), rng.Symmetric(0.04), rng.Symmetric(0.04));
        using var paint = new SKPaint
        {
            Color = SKColors.White, IsAntialias = true, Style = SKPaintStyle.Stroke,
            StrokeWidth = pen * Canvas, StrokeCap = SKStrokeCap.Round, StrokeJoin = SKStrokeJoin.Round,
        };
        foreach (var stroke in strokes)
        {
            var p = stroke.Points
                .Select(q => new SKPoint(q.X + (float)(0.025 * rng.Gaussian()), q.Y + (float)(0.025 * rng.Gaussian())))
                .Select(q => drawer.MapPoint(q))
                .Select(q => new SKPoint(q.X * Canvas, q.Y * Canvas))
                .ToArray();
            using var path = new SKPath();
            path.MoveTo(p[0]);
            path.CubicTo(p[1], p[2], p[3]);
            canvas.DrawPath(path, paint);
        }
        using var image = surface.Snapshot();
        using var bitmap = SKBitmap.FromImage(image);
        var bytes = bitmap.GetPixelSpan();
        var ink = new float[Canvas * Canvas];
        for (var y = 0; y < Canvas; y++)
            for (var x = 0; x < Canvas; x++)
                ink[y * Canvas + x] = bytes[y * bitmap.RowBytes + x * 4] / 255f;
        return ink;
    }

    /// <summary>Rotation, scale and shear about the glyph's centre, then a shift (unit coordinates).</summary>
    private static SKMatrix Around(double radians, double scale, double shear, double dx, double dy)
    {
        var m = SKMatrix.CreateTranslation(-0.5f, -0.5f);
        m = m.PostConcat(SKMatrix.CreateSkew((float)shear, 0));
        m = m.PostConcat(SKMatrix.CreateScale((float)scale, (float)scale));
        m = m.PostConcat(SKMatrix.CreateRotation((float)radians));
        return m.PostConcat(SKMatrix.CreateTranslation(0.5f + (float)dx, 0.5f + (float)dy));
    }

    private static SKPoint Clamp(SKPoint p) => new(Math.Clamp(p.X, 0.08f, 0.92f), Math.Clamp(p.Y, 0.08f, 0.92f));
}
