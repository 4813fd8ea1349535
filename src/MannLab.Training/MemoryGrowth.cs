namespace MannLab.Training;

/// <summary>
/// How fast resident memory grows: the least-squares slope of (iteration, resident memory) samples,
/// so the sawtooth of garbage collections averages out where two single readings would not.
/// </summary>
public static class MemoryGrowth
{
    /// <summary>Bytes per iteration over the samples (at least two, at different iterations).</summary>
    public static double SlopeBytesPerIteration(IReadOnlyList<(long Iteration, double Bytes)> samples)
    {
        if (samples.Count < 2) throw new ArgumentException("a slope needs at least two samples", nameof(samples));
        double meanX = samples.Average(s => (double)s.Iteration), meanY = samples.Average(s => s.Bytes);
        double sxy = samples.Sum(s => (s.Iteration - meanX) * (s.Bytes - meanY)), sxx = samples.Sum(s => (s.Iteration - meanX) * (s.Iteration - meanX));
        if (sxx == 0) throw new ArgumentException("the samples must span more than one iteration", nameof(samples));
        return sxy / sxx;
    }

    /// <summary>
    /// Growth over the samples' span as a fraction of where the fitted line starts: 0.05 is 5% more
    /// resident memory at the last sample's iteration than at the first's.
    /// </summary>
    public static double RelativeGrowth(IReadOnlyList<(long Iteration, double Bytes)> samples)
    {
        var slope = SlopeBytesPerIteration(samples);
        double first = samples.Min(s => s.Iteration), last = samples.Max(s => s.Iteration);
        var meanX = samples.Average(s => (double)s.Iteration);
        var start = samples.Average(s => s.Bytes) + slope * (first - meanX);
        return slope * (last - first) / start;
    }
}
