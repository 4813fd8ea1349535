using System.IO.Compression;
using System.Security.Cryptography;
using SkiaSharp;

namespace MannLab.Cli.Tests;

/// <summary><c>mannlab data fetch | show | info</c>, run as processes.</summary>
public class DataCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A small archive in the authors' layout: two characters of one alphabet, 3 drawings each.</summary>
    private static byte[] SmallArchive(string subset, int seed)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
            for (var c = 0; c < 2; c++)
                for (var d = 0; d < 3; d++)
                {
                    using var bitmap = new SKBitmap(105, 105);
                    bitmap.Erase(SKColors.White);
                    for (var x = 0; x < 10 + seed + c * 7 + d; x++) bitmap.SetPixel(x, 50, SKColors.Black);
                    using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                    using var entry = zip.CreateEntry($"{subset}/Alpha/character{c + 1:D2}/{c + 1:D4}_{d + 1:D2}.png").Open();
                    entry.Write(png.ToArray());
                }
        return stream.ToArray();
    }

    private readonly Dictionary<string, byte[]> _archives = new()
    {
        ["images_background.zip"] = SmallArchive("images_background", 0),
        ["images_evaluation.zip"] = SmallArchive("images_evaluation", 3),
    };

    private string Checksums(Dictionary<string, byte[]> files) =>
        _folder.Write("SHA256SUMS", string.Concat(files.Select(f => $"{Convert.ToHexStringLower(SHA256.HashData(f.Value))}  {f.Key}\n")));

    [Fact]
    public void Fetch_downloads_verifies_and_the_result_loads()
    {
        using var server = new LocalArchiveServer(_archives);
        var sums = Checksums(_archives);
        var dest = Path.Combine(_folder.Path, "omniglot");

        var result = Mannlab.Run(_folder.Path, "data", "fetch", "omniglot", "--from", server.Url, "--checksums", sums, "--dest", dest);

        result.ExitCode.Should().Be(0, result.Err);
        result.Out.Should().Contain("images_background.zip: downloaded, checksum verified").And.Contain("images_evaluation.zip: downloaded");
        result.Err.Should().Contain("images_background.zip: 100.0% of");
        foreach (var (name, bytes) in _archives) File.ReadAllBytes(Path.Combine(dest, name)).Should().Equal(bytes);
        Directory.GetFiles(dest, "*.part").Should().BeEmpty();

        var info = Mannlab.Run(_folder.Path, "data", "info", "--path", dest);
        info.ExitCode.Should().Be(0, info.Err);
        info.Out.Should().MatchRegex(@"images_background\s+1\s+2\s+6").And.MatchRegex(@"total\s+2\s+4\s+12");
    }

    [Fact]
    public void Fetch_resumes_an_interrupted_download_with_a_range_request()
    {
        using var server = new LocalArchiveServer(_archives);
        var sums = Checksums(_archives);
        var dest = Path.Combine(_folder.Path, "omniglot");
        Directory.CreateDirectory(dest);
        var background = _archives["images_background.zip"];
        var half = background.Length / 2;
        File.WriteAllBytes(Path.Combine(dest, "images_background.zip.part"), background[..half]);

        var result = Mannlab.Run(_folder.Path, "data", "fetch", "omniglot", "--from", server.Url, "--checksums", sums, "--dest", dest);

        result.ExitCode.Should().Be(0, result.Err);
        result.Out.Should().Contain("images_background.zip: resumed, checksum verified");
        server.Requests.Should().Contain($"images_background.zip bytes={half}-");
        File.ReadAllBytes(Path.Combine(dest, "images_background.zip")).Should().Equal(background);
    }

    [Fact]
    public void Fetch_rejects_a_checksum_mismatch_and_keeps_nothing()
    {
        var tampered = new Dictionary<string, byte[]>(_archives) { ["images_evaluation.zip"] = SmallArchive("images_evaluation", 9) };
        using var server = new LocalArchiveServer(tampered);
        var sums = Checksums(_archives);
        var dest = Path.Combine(_folder.Path, "omniglot");

        var result = Mannlab.Run(_folder.Path, "data", "fetch", "omniglot", "--from", server.Url, "--checksums", sums, "--dest", dest);

        result.ExitCode.Should().Be(1);
        result.Err.Should().Contain($"{Path.Combine(dest, "images_evaluation.zip")}: checksum mismatch");
        File.Exists(Path.Combine(dest, "images_evaluation.zip")).Should().BeFalse();
        File.Exists(Path.Combine(dest, "images_evaluation.zip.part")).Should().BeFalse();
        // The verified archive waits for the other before taking its name: nobody reads half a set.
        File.Exists(Path.Combine(dest, "images_background.zip")).Should().BeFalse();
        var info = Mannlab.Run(_folder.Path, "data", "info", "--path", dest);
        info.ExitCode.Should().Be(1);
        info.Err.Should().Contain($"{dest}: a download of the archives is unfinished").And.Contain("mannlab data fetch omniglot");
    }

    [Fact]
    public void Fetch_skips_archives_already_present()
    {
        using var server = new LocalArchiveServer(_archives);
        var sums = Checksums(_archives);
        var dest = Path.Combine(_folder.Path, "omniglot");
        Mannlab.Run(_folder.Path, "data", "fetch", "omniglot", "--from", server.Url, "--checksums", sums, "--dest", dest).ExitCode.Should().Be(0);
        server.Requests.Clear();

        var again = Mannlab.Run(_folder.Path, "data", "fetch", "omniglot", "--from", server.Url, "--checksums", sums, "--dest", dest);

        again.ExitCode.Should().Be(0, again.Err);
        again.Out.Should().Contain("images_background.zip: already present");
        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public void Fetch_from_an_unreachable_server_says_so()
    {
        var result = Mannlab.Run(_folder.Path, "data", "fetch", "omniglot", "--from", "http://127.0.0.1:9/", "--dest", _folder.Path);
        result.ExitCode.Should().Be(1);
        result.Err.Should().StartWith("error: http://127.0.0.1:9/images_background.zip: cannot download");
    }

    [Fact]
    public void Show_draws_an_episode_of_a_spec()
    {
        _folder.Write("s.yaml",
            "name: s\nmodel: {kind: lstm}\ndataset:\n  source: synthetic\n  synthetic: {alphabets: 4, characters: 5, drawers: 10}\ntask: {instances: 4}\n");
        var png = Path.Combine(_folder.Path, "episode.png");

        var result = Mannlab.Run(_folder.Path, "data", "show", "s.yaml", "--split", "test", "--episode", "3", "--out", png);

        result.ExitCode.Should().Be(0, result.Err);
        result.Out.Should().Contain("20 steps of s: test episode 3").And.Contain("synthetic glyphs");
        using var image = SKBitmap.Decode(png);
        (image.Width, image.Height).Should().Be((986, 28 + 2 * (80 + 39 + 6) + 6));
        // The first cell holds dark ink drawn on white.
        Enumerable.Range(6, 80).SelectMany(x => Enumerable.Range(28, 80).Select(y => image.GetPixel(x, y).Red))
            .Should().Contain(r => r < 64).And.Contain(r => r > 250);
    }

    [Fact]
    public void Show_under_a_curriculum_draws_an_episode_at_the_class_count_it_was_trained_at()
    {
        // Batches of 16 take the class count of their first episode: episode 25 is in the batch
        // from 16, trained at 2 + 16 / 10 = 3 classes (15 steps), not at 2 + 25 / 10 = 4.
        _folder.Write("c.yaml", "name: c\nmodel: {kind: lstm}\ndataset:\n  source: synthetic\n  synthetic: {alphabets: 4, characters: 5, drawers: 10}\n" +
                                "task: {classes: 5, length_per_class: 5, curriculum: {start: 2, every: 10}}\ntraining: {batch_size: 16}\n");

        var result = Mannlab.Run(_folder.Path, "data", "show", "c.yaml", "--split", "train", "--episode", "25", "--out", "c.png");

        result.ExitCode.Should().Be(0, result.Err);
        result.Out.Should().Contain("15 steps of c: training episode 25");
    }

    [Fact]
    public void Show_of_a_point_outside_the_sweep_is_an_error()
    {
        _folder.Write("s.yaml", "name: s\nmodel: {kind: lstm}\ndataset: {source: synthetic}\n");
        var result = Mannlab.Run(_folder.Path, "data", "show", "s.yaml", "--point", "2", "--out", "x.png");
        result.ExitCode.Should().Be(1);
        result.Err.Should().Contain("--point 2 is out of range: s.yaml has 1 run(s)");
        File.Exists(Path.Combine(_folder.Path, "x.png")).Should().BeFalse();
    }

    [Fact]
    public void Info_on_a_missing_folder_names_it()
    {
        var result = Mannlab.Run(_folder.Path, "data", "info", "--path", "absent");
        result.ExitCode.Should().Be(1);
        result.Err.Should().StartWith("error: absent: no such folder");
    }
}
