using MannLab.Spec;

namespace MannLab.Data.Tests;

/// <summary>Synthetic glyphs: deterministic, labelled as synthetic, and honestly hard.</summary>
public class SyntheticGlyphsTests
{
    [Fact]
    public void Generation_is_deterministic_by_seed()
    {
        var a = GlyphGenerator.Generate(Tasks.SmallGlyphs, 20);
        var b = GlyphGenerator.Generate(Tasks.SmallGlyphs, 20);
        b.Pixels.Should().Equal(a.Pixels);
        GlyphGenerator.Generate(new SyntheticGlyphs(5, 8, 12, 8), 20).Pixels.Should().NotEqual(a.Pixels);
    }

    [Fact]
    public void It_has_the_requested_shape_and_is_always_labelled_synthetic()
    {
        var set = GlyphGenerator.Generate(Tasks.SmallGlyphs, 20);
        set.IsSynthetic.Should().BeTrue();
        set.Source.Should().StartWith("synthetic glyphs").And.NotContainAny("omniglot", "Omniglot");
        set.Characters.Should().HaveCount(40).And.AllSatisfy(c => c.Drawings.Should().Be(12));
        set.Summary().Should().Equal((GlyphGenerator.Background, 3, 24, 288), (GlyphGenerator.Evaluation, 2, 16, 192));
        // Every drawing has ink, and none is solid.
        for (var i = 0; i < set.ImageCount; i++)
            set.Pixels.AsSpan(i * 400, 400).ToArray().Average().Should().BeInRange(0.01f, 0.6f);
    }

    /// <summary>
    /// 5-way one-shot by nearest neighbour on raw pixels: one drawing of each of 5 characters as
    /// the support set, a different drawing as the query. Must beat chance (the classes are real)
    /// but must not be perfect (the task is not trivial).
    /// </summary>
    [Fact]
    public void Nearest_neighbour_on_raw_pixels_does_not_solve_it()
    {
        var set = GlyphGenerator.Generate(new SyntheticGlyphs(20, 20, 20, 0), 20);
        var rng = new DetRandom(11);
        var correct = 0;
        const int trials = 2000;
        for (var trial = 0; trial < trials; trial++)
        {
            var characters = rng.Distinct(set.Characters.Count, 5);
            var target = rng.Next(5);
            var drawings = rng.Distinct(20, 2);
            var query = set.Image(characters[target], drawings[1]).ToArray();
            var nearest = Enumerable.Range(0, 5).MinBy(k =>
            {
                var support = set.Image(characters[k], drawings[0]);
                double distance = 0;
                for (var p = 0; p < 400; p++) distance += (support[p] - query[p]) * (support[p] - query[p]);
                return distance;
            });
            if (nearest == target) correct++;
        }
        var accuracy = (double)correct / trials;
        accuracy.Should().BeInRange(0.35, 0.92, "1-NN on raw pixels should beat chance (0.2) without solving the task");
    }
}
