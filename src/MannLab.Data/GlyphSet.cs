namespace MannLab.Data;

/// <summary>One character (a class before rotation): where it comes from and where its drawings are.</summary>
/// <param name="Subset">The authors' subset: images_background, images_evaluation (or the small ones), or synthetic's own.</param>
/// <param name="FirstImage">Index of its first drawing in <see cref="GlyphSet.Pixels"/>.</param>
/// <param name="Drawings">How many drawings (drawers) it has.</param>
public sealed record Character(string Subset, string Alphabet, string Name, int FirstImage, int Drawings);

/// <summary>
/// A preprocessed image set: every drawing as a float32 image of ImageSize x ImageSize, ink = 1,
/// in one contiguous array, and the characters that own them.
/// </summary>
public sealed class GlyphSet
{
    public GlyphSet(string source, bool synthetic, int imageSize, IReadOnlyList<Character> characters, float[] pixels)
    {
        var images = characters.Sum(c => c.Drawings);
        if (pixels.Length != images * imageSize * imageSize)
            throw new ArgumentException($"{images} images of {imageSize}x{imageSize} need {images * imageSize * imageSize} pixels, got {pixels.Length}");
        Source = source;
        IsSynthetic = synthetic;
        ImageSize = imageSize;
        Characters = characters;
        Pixels = pixels;
    }

    /// <summary>Where the set came from, for people: a path, or "synthetic glyphs (seed 0)".</summary>
    public string Source { get; }

    /// <summary>Synthetic glyphs are always labelled as such, never as Omniglot.</summary>
    public bool IsSynthetic { get; }

    public int ImageSize { get; }
    public IReadOnlyList<Character> Characters { get; }
    public float[] Pixels { get; }

    public int ImageCount => Pixels.Length / (ImageSize * ImageSize);

    public ReadOnlySpan<float> Image(int character, int drawing)
    {
        var c = Characters[character];
        if ((uint)drawing >= (uint)c.Drawings) throw new ArgumentOutOfRangeException(nameof(drawing));
        var n = ImageSize * ImageSize;
        return Pixels.AsSpan((c.FirstImage + drawing) * n, n);
    }

    /// <summary>Alphabets, characters and images per subset, in subset order.</summary>
    public IReadOnlyList<(string Subset, int Alphabets, int Characters, int Images)> Summary() =>
        Characters.GroupBy(c => c.Subset)
            .Select(g => (g.Key, g.Select(c => c.Alphabet).Distinct().Count(), g.Count(), g.Sum(c => c.Drawings)))
            .ToList();
}

/// <summary>Bad or missing data: the message names the file and what is wrong.</summary>
public sealed class DataException(string message, Exception? inner = null) : Exception(message, inner);
