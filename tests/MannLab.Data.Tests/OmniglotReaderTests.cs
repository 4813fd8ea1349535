namespace MannLab.Data.Tests;

/// <summary>The loader on tiny Omniglot-layout fixtures written by the test, as folders and as archives.</summary>
public class OmniglotReaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private GlyphSet Load(string path, int size = 105, List<string>? log = null) =>
        Datasets.LoadOmniglot(path, size, log is null ? null : log.Add, cacheFolder: _temp.Sub("cache"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_the_authors_layout_as_folder_or_archives(bool archives)
    {
        var files = OmniglotFixture.Layout();
        var root = _temp.Sub("omniglot");
        if (archives) OmniglotFixture.WriteArchives(root, files); else OmniglotFixture.WriteFolder(root, files);

        var set = Load(root);

        set.IsSynthetic.Should().BeFalse();
        set.Characters.Should().HaveCount(12);
        set.ImageCount.Should().Be(48);
        set.Summary().Should().Equal(("images_background", 2, 6, 24), ("images_evaluation", 2, 6, 24));
        set.Characters[4].Should().Be(new Character("images_background", "Alphabet_1", "character02", 16, 4));
        // Character 4, drawing 2 has ink (black in the PNG) in its left 4*5+2+1 = 23 columns: inverted, ink = 1.
        var image = set.Image(4, 2).ToArray();
        image[10 * 105 + 22].Should().Be(1f);
        image[10 * 105 + 23].Should().Be(0f);
        image.Sum().Should().Be(23 * 105);
    }

    [Fact]
    public void Downscales_to_the_spec_size_with_area_averaging()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, OmniglotFixture.Layout());
        var set = Load(root, size: 20);
        set.Image(4, 2).ToArray().Sum().Should().BeApproximately(23 * 105 / (5.25f * 5.25f), 1e-3f);
    }

    [Fact]
    public void A_single_archive_path_loads_that_subset()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteArchives(root, OmniglotFixture.Layout(subsets: ["images_background_small1"]));
        var set = Load(Path.Combine(root, "images_background_small1.zip"));
        set.Summary().Should().Equal(("images_background_small1", 2, 6, 24));
    }

    [Fact]
    public void The_cache_round_trips_and_is_used_the_second_time()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteArchives(root, OmniglotFixture.Layout());
        var log = new List<string>();

        var first = Load(root, 20, log);
        var second = Load(root, 20, log);

        log.Should().ContainSingle().Which.Should().StartWith("preprocessing Omniglot");
        second.Pixels.Should().Equal(first.Pixels);
        second.Characters.Should().Equal(first.Characters);
        second.Source.Should().Be(first.Source);
    }

    [Fact]
    public void A_stale_cache_is_detected_and_rebuilt()
    {
        var root = _temp.Sub("omniglot");
        var files = OmniglotFixture.Layout();
        OmniglotFixture.WriteFolder(root, files);
        Load(root);
        // The source changes under the cache: one drawing gets more ink.
        File.WriteAllBytes(Path.Combine(root, files.Keys.First()), OmniglotFixture.Bars(50));
        var log = new List<string>();

        var set = Load(root, log: log);

        log.Should().ContainSingle().Which.Should().Contain("stale");
        set.Image(0, 0).ToArray().Sum().Should().Be(50 * 105);
    }

    [Fact]
    public void A_corrupt_cache_is_detected_and_rebuilt()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, OmniglotFixture.Layout());
        var good = Load(root);
        var cache = Directory.GetFiles(_temp.Sub("cache")).Should().ContainSingle().Subject;
        var bytes = File.ReadAllBytes(cache);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(cache, bytes);
        var log = new List<string>();

        var set = Load(root, log: log);

        log.Should().ContainSingle().Which.Should().Contain("corrupt");
        set.Pixels.Should().Equal(good.Pixels);
        GlyphCache.TryLoad(cache, Datasets.CacheOf(OmniglotReader.Locate(root), 105, _temp.Sub("cache")).Key).State
            .Should().Be(GlyphCache.State.Valid);
    }

    [Fact]
    public void A_truncated_cache_is_corrupt()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, OmniglotFixture.Layout());
        Load(root);
        var cache = Directory.GetFiles(_temp.Sub("cache")).Single();
        File.WriteAllBytes(cache, File.ReadAllBytes(cache)[..1000]);
        GlyphCache.TryLoad(cache, "any").State.Should().Be(GlyphCache.State.Corrupt);
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var missing = _temp.Sub("nowhere");
        var act = () => Load(missing);
        act.Should().Throw<DataException>().WithMessage($"{missing}: no such folder*mannlab data fetch omniglot*");
    }

    [Fact]
    public void A_corrupt_png_is_named()
    {
        var files = OmniglotFixture.Layout();
        var victim = files.Keys.ElementAt(5);
        files[victim] = files[victim][..40];
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, files);

        var act = () => Load(root);

        act.Should().Throw<DataException>().WithMessage($"*{victim.Replace("images_background/", "")}: not a readable PNG image*");
    }

    [Fact]
    public void A_truncated_zip_is_named()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteArchives(root, OmniglotFixture.Layout());
        var zip = Path.Combine(root, "images_evaluation.zip");
        File.WriteAllBytes(zip, File.ReadAllBytes(zip)[..(int)(new FileInfo(zip).Length * 2 / 3)]);

        var act = () => Load(root);

        act.Should().Throw<DataException>().WithMessage($"{zip}: not a readable zip archive (truncated or corrupt*");
    }

    [Fact]
    public void An_alphabet_with_no_characters_is_named()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, OmniglotFixture.Layout());
        Directory.CreateDirectory(Path.Combine(root, "images_evaluation", "Empty_Alphabet"));

        var act = () => Load(root);

        act.Should().Throw<DataException>().WithMessage("*images_evaluation/Empty_Alphabet: an alphabet folder with no characters");
    }

    [Fact]
    public void An_alphabet_with_no_characters_inside_an_archive_is_named()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteArchives(root, OmniglotFixture.Layout());
        using (var zip = System.IO.Compression.ZipFile.Open(Path.Combine(root, "images_background.zip"), System.IO.Compression.ZipArchiveMode.Update))
            zip.CreateEntry("images_background/Hollow/");

        var act = () => Load(root);

        act.Should().Throw<DataException>().WithMessage("*images_background.zip!Hollow: an alphabet folder with no characters");
    }

    [Fact]
    public void An_image_of_the_wrong_size_is_named()
    {
        var files = OmniglotFixture.Layout();
        var victim = files.Keys.Last();
        files[victim] = OmniglotFixture.Png((x, _) => x < 3, size: 104);
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteArchives(root, files);

        var act = () => Load(root);

        act.Should().Throw<DataException>().WithMessage($"*images_evaluation.zip!{victim}: image is 104x104; Omniglot images are 105x105");
    }

    [Fact]
    public void A_stray_file_is_not_skipped_silently()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, OmniglotFixture.Layout());
        File.WriteAllText(Path.Combine(root, "images_background", "Alphabet_0", "character01", "notes.txt"), "hi");
        var act = () => Load(root);
        act.Should().Throw<DataException>().WithMessage("*notes.txt: unexpected file*");
    }

    [Fact]
    public void A_character_with_fewer_drawings_than_an_episode_needs_is_named()
    {
        var root = _temp.Sub("omniglot");
        OmniglotFixture.WriteFolder(root, OmniglotFixture.Layout(drawings: 4));
        var set = Load(root);
        var classes = DataSplit.Classes([.. Enumerable.Range(0, 12)], rotationClasses: false);

        var act = () => new EpisodeSampler(set, classes, Tasks.OneHot(classes: 5, instances: 5), null, 0, 1);

        act.Should().Throw<DataException>().WithMessage("images_background/Alphabet_0/character01: has 4 drawings, but an episode needs 5 instances of a class");
    }
}
