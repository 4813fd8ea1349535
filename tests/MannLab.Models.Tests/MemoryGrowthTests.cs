using MannLab.Training;

namespace MannLab.Models.Tests;

public class MemoryGrowthTests
{
    [Fact]
    public void The_trend_of_a_sawtooth_is_its_underlying_slope()
    {
        // 100 MB growing by 1 KB an iteration, with a 5 MB sawtooth of collections every 100 iterations.
        var samples = Enumerable.Range(0, 1000).Select(i => ((long)i * 10, 100e6 + 1e3 * i * 10 + 5e6 * (i % 10) / 10.0)).ToList();

        MemoryGrowth.SlopeBytesPerIteration(samples).Should().BeApproximately(1e3, 10);
        MemoryGrowth.RelativeGrowth(samples).Should().BeApproximately(9_990 * 1e3 / 102.25e6, 0.002);
    }

    [Fact]
    public void Flat_memory_has_no_growth() =>
        MemoryGrowth.RelativeGrowth([(0, 5e8), (10, 5e8), (20, 5e8)]).Should().Be(0);

    [Fact]
    public void One_sample_has_no_trend() =>
        FluentActions.Invoking(() => MemoryGrowth.SlopeBytesPerIteration([(0, 1)])).Should().Throw<ArgumentException>();
}
