namespace MannLab.Data.Tests;

/// <summary>Downscaling and rotation checked against images with known pixels.</summary>
public class ImageOpsTests
{
    [Fact]
    public void Downscale_by_an_integer_factor_averages_blocks()
    {
        float[] source = [1, 0, 0, 0,
                          1, 0, 0, 1,
                          0, 0, 1, 1,
                          0, 0, 1, 1];
        ImageOps.AreaDownscale(source, 4, 2).Should().Equal(0.5f, 0.25f, 0f, 1f);
    }

    [Fact]
    public void Downscale_by_a_fractional_factor_weights_partly_covered_pixels()
    {
        // 3 -> 2: output (0, 0) covers [0, 1.5) x [0, 1.5); the centre pixel lies a quarter inside it.
        float[] source = [0, 0, 0,
                          0, 1, 0,
                          0, 0, 0];
        var output = ImageOps.AreaDownscale(source, 3, 2);
        output.Should().AllSatisfy(v => v.Should().BeApproximately(0.25f / 2.25f, 1e-6f));
    }

    [Fact]
    public void Downscale_from_105_to_20_keeps_full_ink_full_and_conserves_ink()
    {
        var full = Enumerable.Repeat(1f, 105 * 105).ToArray();
        ImageOps.AreaDownscale(full, 105, 20).Should().AllSatisfy(v => v.Should().BeApproximately(1f, 1e-5f));

        var bars = new float[105 * 105];
        for (var y = 0; y < 105; y++) for (var x = 0; x < 13; x++) bars[y * 105 + x] = 1;
        var small = ImageOps.AreaDownscale(bars, 105, 20);
        small.Sum().Should().BeApproximately(bars.Sum() / (5.25f * 5.25f), 1e-3f);
        small[0].Should().BeApproximately(1f, 1e-6f);           // columns 0..5.25 all ink
        small[2].Should().BeApproximately((13 - 10.5f) / 5.25f, 1e-5f); // column 2 covers 10.5..15.75, ink to 13
        small[3].Should().Be(0f);
    }

    private static readonly float[] Arrow = [1, 2, 3,
                                             4, 5, 6,
                                             7, 8, 9];

    [Theory]
    [InlineData(0, new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 })]
    [InlineData(1, new float[] { 3, 6, 9, 2, 5, 8, 1, 4, 7 })] // counter-clockwise: the right column becomes the top row
    [InlineData(2, new float[] { 9, 8, 7, 6, 5, 4, 3, 2, 1 })]
    [InlineData(3, new float[] { 7, 4, 1, 8, 5, 2, 9, 6, 3 })]
    public void Quarter_turns_are_exact_permutations(int quarters, float[] expected)
    {
        var output = new float[9];
        ImageOps.RotateQuarters(Arrow, 3, quarters, output);
        output.Should().Equal(expected);
    }

    [Fact]
    public void General_rotation_by_90_degrees_agrees_with_the_quarter_turn()
    {
        var rng = new DetRandom(1);
        var image = Enumerable.Range(0, 400).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] quarter = new float[400], general = new float[400];
        ImageOps.RotateQuarters(image, 20, 1, quarter);
        ImageOps.Affine(image, 20, Math.PI / 2 + 1e-9, 0, 0, general); // just off the exact path, through bilinear sampling
        general.Zip(quarter).Should().AllSatisfy(p => p.First.Should().BeApproximately(p.Second, 1e-5f));
    }

    [Fact]
    public void A_shift_of_whole_pixels_moves_pixels_and_fills_with_zero()
    {
        var output = new float[9];
        ImageOps.Affine(Arrow, 3, 0, dx: 1, dy: 0, output);
        output.Should().Equal(0, 1, 2, 0, 4, 5, 0, 7, 8);
        ImageOps.Affine(Arrow, 3, 0, dx: 0, dy: -1, output);
        output.Should().Equal(4, 5, 6, 7, 8, 9, 0, 0, 0);
    }
}
