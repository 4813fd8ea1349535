using MannLab.Spec;

namespace MannLab.Data;

/// <summary>
/// A batch of regression episodes as flat row-major arrays. The model's input at step t is
/// [X[b, t], Y[b, t - 1]] (zero at t = 0), and its target is Y[b, t].
/// </summary>
public sealed class RegressionBatch(int batchSize, int steps, int dimensions, long firstEpisode)
{
    public int BatchSize { get; } = batchSize;
    public int Steps { get; } = steps;
    public int Dimensions { get; } = dimensions;
    /// <summary>The episode index of the batch's first episode; episode b is FirstEpisode + b.</summary>
    public long FirstEpisode { get; } = firstEpisode;
    /// <summary>[B, T, Dimensions]: the inputs x_t.</summary>
    public float[] X { get; } = new float[batchSize * steps * dimensions];
    /// <summary>[B, T]: the observations y_t = f(x_t) + noise.</summary>
    public float[] Y { get; } = new float[batchSize * steps];
    /// <summary>[B, T]: the function itself, f(x_t), without the noise.</summary>
    public float[] F { get; } = new float[batchSize * steps];
}

/// <summary>
/// Samples regression episodes: each a fresh function f from the task's GP prior, observed at
/// Points inputs drawn uniformly from the input box. f is drawn point by point from its posterior
/// given the values already drawn (GpPosterior without noise), which is an exact draw from the
/// prior at those points, and the noise is added to it. Episode e's randomness comes from
/// (seed, stream, e) alone, as for classification (EpisodeSampler): any episode can be regenerated.
/// </summary>
public sealed class GpEpisodes(GpRegression gp, long seed, int stream)
{
    /// <summary>
    /// Keeps f's own posterior positive definite where two points nearly coincide: 1e-8 of the
    /// signal variance, far below the noise of any task one could learn from.
    /// </summary>
    private double Jitter => 1e-8 * gp.SignalVariance;

    public GpRegression Task => gp;

    public RegressionBatch Batch(long firstEpisode, int batchSize)
    {
        var batch = new RegressionBatch(batchSize, gp.Points, gp.Dimensions, firstEpisode);
        for (var b = 0; b < batchSize; b++) Draw(firstEpisode + b, batch.X.AsSpan(b * gp.Points * gp.Dimensions, gp.Points * gp.Dimensions),
            batch.F.AsSpan(b * gp.Points, gp.Points), batch.Y.AsSpan(b * gp.Points, gp.Points));
        return batch;
    }

    /// <summary>
    /// Episode e's function at other points too (for pictures): drawn from f's posterior given its
    /// values at the episode's own points, by a random stream of its own, so the episode is unchanged.
    /// </summary>
    public float[] FunctionAt(long episode, IReadOnlyList<double[]> points)
    {
        var (x, f) = (new float[gp.Points * gp.Dimensions], new float[gp.Points]);
        var function = Draw(episode, x, f, new float[gp.Points]);
        var rng = DetRandom.For(seed, stream, episode, 1);
        var values = new float[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            var (mean, variance) = function.Predict(points[i]);
            var value = mean + Math.Sqrt(variance) * rng.Gaussian();
            function.Observe(value);
            values[i] = (float)value;
        }
        return values;
    }

    /// <summary>Draws episode e into x, f and y, and returns f's posterior given its values there.</summary>
    private GpPosterior Draw(long episode, Span<float> x, Span<float> f, Span<float> y)
    {
        var rng = DetRandom.For(seed, stream, episode);
        int d = gp.Dimensions, steps = gp.Points;
        for (var i = 0; i < steps * d; i++) x[i] = (float)(gp.InputLow + rng.NextDouble() * (gp.InputHigh - gp.InputLow));
        var function = new GpPosterior(gp, Jitter);
        var noise = Math.Sqrt(gp.NoiseVariance);
        var point = new double[d];
        for (var t = 0; t < steps; t++)
        {
            for (var i = 0; i < d; i++) point[i] = x[t * d + i];
            var (mean, variance) = function.Predict(point);
            var value = mean + Math.Sqrt(variance) * rng.Gaussian();
            function.Observe(value);
            f[t] = (float)value;
            y[t] = (float)(value + noise * rng.Gaussian());
        }
        return function;
    }
}
