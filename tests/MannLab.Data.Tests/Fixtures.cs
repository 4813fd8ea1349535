using System.IO.Compression;
using MannLab.Spec;
using SkiaSharp;

namespace MannLab.Data.Tests;

/// <summary>Writes tiny Omniglot-layout fixtures: PNGs with black ink on white, as the authors' are.</summary>
public static class OmniglotFixture
{
    /// <summary>A PNG of size x size whose pixel (x, y) is black where <paramref name="ink"/> says so.</summary>
    public static byte[] Png(Func<int, int, bool> ink, int size = 105)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Gray8, SKAlphaType.Opaque));
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
                bitmap.SetPixel(x, y, ink(x, y) ? SKColors.Black : SKColors.White);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Ink in the left <paramref name="columns"/> columns: a pattern each drawing can vary.</summary>
    public static byte[] Bars(int columns) => Png((x, _) => x < columns);

    /// <summary>
    /// subset -> alphabet -> characters with their drawings; drawing d of character c (counted
    /// across the fixture) has ink in its left (c * 5 + d + 1) columns.
    /// </summary>
    public static Dictionary<string, byte[]> Layout(int alphabetsPerSubset = 2, int charactersPerAlphabet = 3, int drawings = 4,
        params string[] subsets)
    {
        var files = new Dictionary<string, byte[]>();
        var c = 0;
        foreach (var subset in subsets.Length == 0 ? ["images_background", "images_evaluation"] : subsets)
            for (var a = 0; a < alphabetsPerSubset; a++)
                for (var ch = 0; ch < charactersPerAlphabet; ch++, c++)
                    for (var d = 0; d < drawings; d++)
                        files[$"{subset}/Alphabet_{a}/character{ch + 1:D2}/{c + 1:D4}_{d + 1:D2}.png"] = Bars(c * 5 + d + 1);
        return files;
    }

    public static void WriteFolder(string root, Dictionary<string, byte[]> files)
    {
        foreach (var (name, bytes) in files)
        {
            var path = Path.Combine(root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
        }
    }

    /// <summary>One archive per subset, named as the authors name theirs, with directory entries too.</summary>
    public static void WriteArchives(string root, Dictionary<string, byte[]> files)
    {
        Directory.CreateDirectory(root);
        foreach (var subset in files.Keys.Select(k => k.Split('/')[0]).Distinct())
        {
            using var zip = ZipFile.Open(Path.Combine(root, subset + ".zip"), ZipArchiveMode.Create);
            foreach (var dir in files.Keys.Where(k => k.StartsWith(subset + "/"))
                         .SelectMany(k => new[] { string.Join('/', k.Split('/')[..2]) + "/", string.Join('/', k.Split('/')[..3]) + "/" }).Distinct())
                zip.CreateEntry(dir);
            foreach (var (name, bytes) in files.Where(f => f.Key.StartsWith(subset + "/")))
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(bytes);
            }
        }
    }
}

/// <summary>The real Omniglot archives, found as MannLab finds them ($MANNLAB_OMNIGLOT, else ../shared/omniglot beside the repository).</summary>
public static class RealOmniglot
{
    public static string Path => Datasets.LocateOmniglot().Path;
}

public static class Tasks
{
    public static Spec.Task OneHot(int classes = 5, int instances = 10) =>
        new(classes, EpisodeShape.NewInstancesPerClass(instances), LabelEncoding.OneHot, null, TaskKind.Classification);

    public static Spec.Task Strings(int classes, int length) =>
        new(classes, EpisodeShape.NewLength(length), LabelEncoding.StringLabels, null, TaskKind.Classification);

    public static readonly SyntheticGlyphs SmallGlyphs = new(5, 8, 12, 7);
}
