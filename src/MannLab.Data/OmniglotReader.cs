using System.IO.Compression;
using System.Security.Cryptography;
using SkiaSharp;

namespace MannLab.Data;

/// <summary>One subset of Omniglot on disk: a folder in the authors' layout, or one of their archives.</summary>
public sealed record OmniglotPart(string Subset, string Path, bool IsArchive)
{
    public string Describe(string? entry = null) => entry is null ? Path : IsArchive ? $"{Path}!{entry}" : System.IO.Path.Combine(Path, entry);
}

/// <summary>
/// Reads Omniglot (Lake et al. 2015) from the authors' layout,
/// <c>images_background/&lt;Alphabet&gt;/characterNN/XXXX_YY.png</c>, as folders or straight from
/// the archives, and preprocesses it: ink = 1, area-averaged down to the requested size, float32.
/// Anything unexpected is an error that names the file; nothing is skipped.
/// </summary>
public static class OmniglotReader
{
    public const int NativeSize = 105;

    /// <summary>The full set's two subsets; the small ones are used only where these are absent.</summary>
    private static readonly string[] FullSubsets = ["images_background", "images_evaluation"];

    /// <summary>
    /// Why Omniglot is not at <paramref name="path"/>, or null when something is there to read (a
    /// file, or a folder of images_* folders or archives; whether it reads is the reader's to say).
    /// A download in progress or broken off (an archive's .part beside it) is not there yet.
    /// </summary>
    public static string? Absence(string path)
    {
        if (File.Exists(path)) return null;
        if (!Directory.Exists(path)) return $"{path}: no such folder";
        if (Directory.EnumerateFiles(path, "images_*.zip" + OmniglotFetcher.PartSuffix).Any())
            return $"{path}: a download of the archives is unfinished";
        if (!Directory.EnumerateDirectories(path, "images_*").Any() && !Directory.EnumerateFiles(path, "images_*.zip").Any())
            return $"{path}: holds neither images_*/ folders nor images_*.zip archives of Omniglot";
        return null;
    }

    public static IReadOnlyList<OmniglotPart> Locate(string path)
    {
        if (Absence(path) is { } absence)
            throw new DataException($"{absence}. Omniglot is read from a folder holding images_background/ and images_evaluation/ " +
                                    "or their .zip archives; `mannlab data fetch omniglot` downloads them.");
        if (File.Exists(path))
        {
            if (!path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                throw new DataException($"{path}: not an Omniglot archive (expected images_background.zip, images_evaluation.zip or a folder holding them)");
            return [new OmniglotPart(Path.GetFileNameWithoutExtension(path), Path.GetFullPath(path), true)];
        }
        List<OmniglotPart> Pick(IEnumerable<OmniglotPart> parts)
        {
            var all = parts.OrderBy(p => p.Subset, StringComparer.Ordinal).ToList();
            var full = all.Where(p => FullSubsets.Contains(p.Subset)).ToList();
            return full.Count > 0 ? full : all;
        }
        var folders = Pick(Directory.GetDirectories(path, "images_*")
            .Select(d => new OmniglotPart(Path.GetFileName(d), Path.GetFullPath(d), false)));
        if (folders.Count > 0) return folders;
        return Pick(Directory.GetFiles(path, "images_*.zip")
            .Select(f => new OmniglotPart(Path.GetFileNameWithoutExtension(f), Path.GetFullPath(f), true)));
    }

    /// <summary>SHA-256 over the parts' contents (archive bytes, or every file's path and bytes).</summary>
    public static string ContentHash(IReadOnlyList<OmniglotPart> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(part.Subset + "\n"));
            if (part.IsArchive)
            {
                using var stream = File.OpenRead(part.Path);
                hash.AppendData(SHA256.HashData(stream));
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(part.Path, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(part.Path, file) + "\n"));
                hash.AppendData(File.ReadAllBytes(file));
            }
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private sealed record Drawing(OmniglotPart Part, string Entry, string Alphabet, string Character, byte[] Png);

    /// <summary>Reads and preprocesses every drawing of the parts; decoding runs in parallel.</summary>
    public static GlyphSet Read(IReadOnlyList<OmniglotPart> parts, int imageSize, string description)
    {
        var drawings = new List<Drawing>();
        foreach (var part in parts) drawings.AddRange(part.IsArchive ? ReadArchive(part) : ReadFolder(part));
        drawings = drawings
            .OrderBy(d => Array.IndexOf(parts.ToArray(), d.Part))
            .ThenBy(d => d.Alphabet, StringComparer.Ordinal)
            .ThenBy(d => d.Character, StringComparer.Ordinal)
            .ThenBy(d => d.Entry, StringComparer.Ordinal)
            .ToList();

        var characters = new List<Character>();
        foreach (var group in drawings.GroupBy(d => (d.Part, d.Alphabet, d.Character)))
            characters.Add(new Character(group.Key.Part.Subset, group.Key.Alphabet, group.Key.Character,
                characters.Count == 0 ? 0 : characters[^1].FirstImage + characters[^1].Drawings, group.Count()));

        var n = imageSize * imageSize;
        var pixels = new float[drawings.Count * n];
        try
        {
            Parallel.For(0, drawings.Count, i =>
            {
                var d = drawings[i];
                Preprocess(Decode(d.Png, d.Part.Describe(d.Entry)), imageSize).CopyTo(pixels, i * n);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.OfType<DataException>().FirstOrDefault() is { } first)
        {
            throw first;
        }
        return new GlyphSet(description, synthetic: false, imageSize, characters, pixels);
    }

    /// <summary>Decodes a 105x105 PNG to floats with ink = 1 (the authors' PNGs have black ink on white).</summary>
    public static float[] Decode(byte[] png, string where)
    {
        using var data = SKData.CreateCopy(png);
        using var codec = SKCodec.Create(data) ?? throw new DataException($"{where}: not a readable PNG image (corrupt or not a PNG)");
        if (codec.Info.Width != NativeSize || codec.Info.Height != NativeSize)
            throw new DataException($"{where}: image is {codec.Info.Width}x{codec.Info.Height}; Omniglot images are {NativeSize}x{NativeSize}");
        // Decoded as BGRA whatever the PNG's own format, and only a complete decode is accepted.
        using var bitmap = new SKBitmap(new SKImageInfo(NativeSize, NativeSize, SKColorType.Bgra8888, SKAlphaType.Premul));
        var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
            throw new DataException($"{where}: not a readable PNG image ({result}: corrupt or truncated)");
        var bytes = bitmap.GetPixelSpan();
        var ink = new float[NativeSize * NativeSize];
        for (var y = 0; y < NativeSize; y++)
            for (var x = 0; x < NativeSize; x++)
            {
                var p = y * bitmap.RowBytes + x * 4;
                ink[y * NativeSize + x] = 1f - (bytes[p] + bytes[p + 1] + bytes[p + 2]) / (3 * 255f);
            }
        return ink;
    }

    public static float[] Preprocess(float[] ink, int imageSize) =>
        imageSize == NativeSize ? ink : ImageOps.AreaDownscale(ink, NativeSize, imageSize);

    private static IEnumerable<Drawing> ReadArchive(OmniglotPart part)
    {
        var result = new List<Drawing>();
        try
        {
            using var zip = ZipFile.OpenRead(part.Path);
            var alphabets = new HashSet<string>();
            var characters = new HashSet<(string, string)>();
            foreach (var entry in zip.Entries)
            {
                var segments = entry.FullName.Split('/');
                var isDirectory = entry.FullName.EndsWith('/');
                var depth = segments.Length - (isDirectory ? 1 : 0);
                if (isDirectory)
                {
                    if (depth >= 2) alphabets.Add(segments[1]);
                    if (depth >= 3) characters.Add((segments[1], segments[2]));
                    continue;
                }
                if (depth != 4 || !entry.Name.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                    throw new DataException($"{part.Describe(entry.FullName)}: unexpected entry; the layout is <subset>/<Alphabet>/<character>/<drawing>.png");
                alphabets.Add(segments[1]);
                characters.Add((segments[1], segments[2]));
                using var stream = entry.Open();
                var bytes = new byte[entry.Length];
                stream.ReadExactly(bytes);
                result.Add(new Drawing(part, entry.FullName, segments[1], segments[2], bytes));
            }
            CheckNoneEmpty(part, alphabets, characters, result);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new DataException($"{part.Path}: not a readable zip archive (truncated or corrupt: {e.Message})", e);
        }
        return result;
    }

    private static IEnumerable<Drawing> ReadFolder(OmniglotPart part)
    {
        var result = new List<Drawing>();
        var alphabets = new HashSet<string>();
        var characters = new HashSet<(string, string)>();
        foreach (var stray in Directory.GetFiles(part.Path))
            throw new DataException($"{stray}: unexpected file; the layout is {part.Subset}/<Alphabet>/<character>/<drawing>.png");
        foreach (var alphabet in Directory.GetDirectories(part.Path))
        {
            var a = Path.GetFileName(alphabet);
            alphabets.Add(a);
            foreach (var stray in Directory.GetFiles(alphabet))
                throw new DataException($"{stray}: unexpected file; an alphabet folder holds only character folders");
            foreach (var character in Directory.GetDirectories(alphabet))
            {
                var c = Path.GetFileName(character);
                characters.Add((a, c));
                foreach (var sub in Directory.GetDirectories(character))
                    throw new DataException($"{sub}: unexpected folder; a character folder holds only its drawings (.png)");
                foreach (var file in Directory.GetFiles(character))
                {
                    if (!file.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                        throw new DataException($"{file}: unexpected file; a character folder holds only its drawings (.png)");
                    result.Add(new Drawing(part, Path.GetRelativePath(part.Path, file), a, c, File.ReadAllBytes(file)));
                }
            }
        }
        CheckNoneEmpty(part, alphabets, characters, result);
        return result;
    }

    private static void CheckNoneEmpty(OmniglotPart part, HashSet<string> alphabets, HashSet<(string, string)> characters, List<Drawing> drawings)
    {
        if (alphabets.Count == 0) throw new DataException($"{part.Path}: holds no alphabets");
        foreach (var alphabet in alphabets.Order(StringComparer.Ordinal))
            if (!characters.Any(c => c.Item1 == alphabet))
                throw new DataException($"{part.Describe(alphabet)}: an alphabet folder with no characters");
        foreach (var (alphabet, character) in characters.Order())
            if (!drawings.Any(d => d.Alphabet == alphabet && d.Character == character))
                throw new DataException($"{part.Describe(alphabet + "/" + character)}: a character folder with no drawings");
    }
}
