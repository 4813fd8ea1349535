namespace MannLab.Data;

/// <summary>Pure image operations on row-major float images (ink = 1, background = 0).</summary>
public static class ImageOps
{
    /// <summary>
    /// Area-averaging downscale of a square image: each output pixel is the mean of the input
    /// area it covers, fractional pixels weighted by their covered fraction (105 to 20 is 5.25:1).
    /// </summary>
    public static float[] AreaDownscale(ReadOnlySpan<float> source, int sourceSize, int size)
    {
        if (source.Length != sourceSize * sourceSize) throw new ArgumentException("source is not sourceSize x sourceSize", nameof(source));
        var weights = AreaWeights(sourceSize, size);
        // Separable: average along each row, then along each column, which is the same pass on
        // the transposed result (transposed back at the end).
        var rows = AlongRows(source, sourceSize, sourceSize, weights);
        return Transpose(AlongRows(Transpose(rows, sourceSize, size), size, sourceSize, weights), size, size);
    }

    /// <summary>Resamples each of <paramref name="height"/> rows of width <paramref name="width"/> with the weights.</summary>
    private static float[] AlongRows(ReadOnlySpan<float> image, int height, int width, (int Index, double Weight)[][] weights)
    {
        var output = new float[height * weights.Length];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < weights.Length; x++)
            {
                double sum = 0;
                foreach (var (index, weight) in weights[x]) sum += image[y * width + index] * weight;
                output[y * weights.Length + x] = (float)sum;
            }
        return output;
    }

    private static float[] Transpose(float[] image, int height, int width)
    {
        var output = new float[image.Length];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                output[x * height + y] = image[y * width + x];
        return output;
    }

    /// <summary>For each output index, the input indices it covers and their weights (summing to 1).</summary>
    private static (int Index, double Weight)[][] AreaWeights(int sourceSize, int size)
    {
        var scale = (double)sourceSize / size;
        var result = new (int, double)[size][];
        for (var o = 0; o < size; o++)
        {
            double start = o * scale, end = (o + 1) * scale;
            var list = new List<(int, double)>();
            for (var i = (int)Math.Floor(start); i < Math.Min(sourceSize, (int)Math.Ceiling(end)); i++)
            {
                var overlap = Math.Min(end, i + 1) - Math.Max(start, i);
                if (overlap > 1e-12) list.Add((i, overlap / scale));
            }
            result[o] = [.. list];
        }
        return result;
    }

    /// <summary>
    /// Writes into <paramref name="output"/> the image rotated by <paramref name="radians"/>
    /// (counter-clockwise as displayed, about the centre) and then shifted by (dx, dy) pixels,
    /// bilinearly resampled with zero outside. Quarter turns with no shift are exact permutations.
    /// </summary>
    public static void Affine(ReadOnlySpan<float> source, int size, double radians, double dx, double dy, Span<float> output)
    {
        var quarter = radians / (Math.PI / 2);
        if (dx == 0 && dy == 0 && Math.Abs(quarter - Math.Round(quarter)) < 1e-12)
        {
            RotateQuarters(source, size, (int)Math.Round(quarter), output);
            return;
        }
        double c = (size - 1) / 2.0, cos = Math.Cos(radians), sin = Math.Sin(radians);
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                // Inverse map: undo the shift, then rotate back by -radians (y grows downwards).
                double px = x - dx - c, py = y - dy - c;
                var sx = cos * px - sin * py + c;
                var sy = sin * px + cos * py + c;
                output[y * size + x] = Bilinear(source, size, sx, sy);
            }
    }

    private static float Bilinear(ReadOnlySpan<float> source, int size, double x, double y)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        var top = At(source, size, x0, y0) * (1 - fx) + At(source, size, x0 + 1, y0) * fx;
        var bottom = At(source, size, x0, y0 + 1) * (1 - fx) + At(source, size, x0 + 1, y0 + 1) * fx;
        return (float)(top * (1 - fy) + bottom * fy);
    }

    private static float At(ReadOnlySpan<float> source, int size, int x, int y) =>
        x < 0 || y < 0 || x >= size || y >= size ? 0f : source[y * size + x];

    /// <summary>Rotation by k quarter turns, counter-clockwise as displayed.</summary>
    public static void RotateQuarters(ReadOnlySpan<float> source, int size, int k, Span<float> output)
    {
        k = ((k % 4) + 4) % 4;
        var n = size - 1;
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                // Output (x, y) takes the source pixel that the rotation carries onto it.
                var (sx, sy) = k switch
                {
                    0 => (x, y),
                    1 => (n - y, x),
                    2 => (n - x, n - y),
                    _ => (y, n - x),
                };
                output[y * size + x] = source[sy * size + sx];
            }
    }
}
