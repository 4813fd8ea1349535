using MannLab.Spec;

namespace MannLab.Data.Tests;

/// <summary>The real archives from ../shared/omniglot (or $MANNLAB_OMNIGLOT).</summary>
[Trait(TestKind.Trait, TestKind.FullOmniglot)]
public class RealOmniglotTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_full_set_has_964_plus_659_characters_and_32460_images_and_caches()
    {
        var log = new List<string>();
        var set = Datasets.LoadOmniglot(RealOmniglot.Path, 20, log.Add, _temp.Sub("cache"));

        set.Summary().Should().Equal(("images_background", 30, 964, 19280), ("images_evaluation", 20, 659, 13180));
        set.ImageCount.Should().Be(32460);
        set.Characters.Should().AllSatisfy(c => c.Drawings.Should().Be(20));
        (set.Pixels.Min(), set.Pixels.Max()).Should().Be((0f, 1f));
        // Ink is a minority of pixels: the images were inverted.
        set.Pixels.Average().Should().BeInRange(0.03f, 0.3f);

        var again = Datasets.LoadOmniglot(RealOmniglot.Path, 20, log.Add, _temp.Sub("cache"));
        log.Should().ContainSingle("the second load comes from the cache");
        again.Pixels.Should().Equal(set.Pixels);

        var paper = DataSplit.Make(set, ClassSplit.NewPaper(1200), seed: 0);
        (paper.TrainCharacters.Count, paper.TestCharacters.Count).Should().Be((1200, 423));
        var authors = DataSplit.Make(set, ClassSplit.BackgroundEvaluation, seed: 0);
        (authors.TrainCharacters.Count, authors.TestCharacters.Count).Should().Be((964, 659));
    }
}
