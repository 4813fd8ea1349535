using MannLab.Data;
using SkiaSharp;

namespace MannLab.Drawing;

/// <summary>
/// One episode as the model sees it: a grid of its input images in step order, each captioned
/// with the step, the label the model must output, the label it was given with the image (the
/// previous step's), and the instance index (the k-th sight of that class).
/// </summary>
public static class EpisodeImage
{
    private const int Columns = 10, Scale = 4, Pad = 6, CaptionLines = 3, LineHeight = 13;

    public static byte[] Png(EpisodeBatch batch, int episode, LabelCodec codec, int imageSize, string title)
    {
        var cell = imageSize * Scale;
        var rows = (batch.Steps + Columns - 1) / Columns;
        int cellWidth = Math.Max(cell, 92) + Pad, cellHeight = cell + CaptionLines * LineHeight + Pad;
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans Mono") ?? SKTypeface.Default;
        using var font = new SKFont(typeface, 11);
        using var titleFont = new SKFont(typeface, 14);
        var width = (int)Math.Max(Columns * cellWidth + Pad, titleFont.MeasureText(title) + 2 * Pad);
        var height = 28 + rows * cellHeight + Pad;
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        using var faint = new SKPaint { Color = new SKColor(0x88, 0x88, 0x88), IsAntialias = true };
        using var first = new SKPaint { Color = new SKColor(0xC0, 0x30, 0x20), IsAntialias = true };
        using var frame = new SKPaint { Style = SKPaintStyle.Stroke, Color = new SKColor(0xDD, 0xDD, 0xDD) };
        canvas.DrawText(title, Pad, 18, titleFont, ink);

        var pixels = batch.ImagePixels;
        for (var t = 0; t < batch.Steps; t++)
        {
            var at = episode * batch.Steps + t;
            int x0 = Pad + t % Columns * cellWidth, y0 = 28 + t / Columns * cellHeight;
            using var bitmap = new SKBitmap(new SKImageInfo(imageSize, imageSize, SKColorType.Gray8, SKAlphaType.Opaque));
            var image = batch.Images.AsSpan(at * pixels, pixels);
            var target = bitmap.GetPixelSpan();
            for (var p = 0; p < pixels; p++) target[p] = (byte)(255 * (1 - Math.Clamp(image[p], 0f, 1f))); // ink shown black, as drawn
            using var picture = SKImage.FromBitmap(bitmap);
            canvas.DrawImage(picture, SKRect.Create(x0, y0, cell, cell), new SKSamplingOptions(SKFilterMode.Nearest));
            canvas.DrawRect(SKRect.Create(x0, y0, cell, cell), frame);
            var instance = batch.Instances[at];
            var label = Label(codec, batch.Labels[at]);
            var given = t == 0 ? "none" : Label(codec, batch.Labels[at - 1]);
            canvas.DrawText($"t{t} #{instance}", x0, y0 + cell + LineHeight, font, instance == 1 ? first : ink);
            canvas.DrawText($"y: {label}", x0, y0 + cell + 2 * LineHeight, font, ink);
            canvas.DrawText($"in: {given}", x0, y0 + cell + 3 * LineHeight, font, faint);
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    private static string Label(LabelCodec codec, int label) => codec.IsString ? LabelCodec.Text(label) : label.ToString();
}
