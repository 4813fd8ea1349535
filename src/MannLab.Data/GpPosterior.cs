using MannLab.Spec;

namespace MannLab.Data;

/// <summary>
/// The exact Gaussian-process posterior, grown one observation at a time (Rasmussen and Williams
/// 2006, algorithm 2.1, made incremental). It keeps the Cholesky factor L of K + noise I over the
/// points seen and a = L^-1 y. For a new point x with kernel column k against them, the forward solve
/// l = L^-1 k gives the predictive distribution of its observation, mean l.a and variance
/// k(x, x) + noise - l.l, and that same l with d = sqrt(variance) is the row L gains when the
/// observation y arrives, with a_n = (y - l.a) / d. Each step costs O(n^2): L is never refactorised.
/// </summary>
public sealed class GpPosterior(GpRegression gp, double noiseVariance)
{
    /// <summary>The posterior of the task's observations y = f(x) + noise.</summary>
    public GpPosterior(GpRegression gp) : this(gp, gp.NoiseVariance) { }

    private readonly List<double[]> _points = [];
    /// <summary>Row n of L: its n + 1 entries up to the diagonal.</summary>
    private readonly List<double[]> _rows = [];
    private readonly List<double> _a = [];
    private double[]? _pendingPoint, _pendingRow;

    public int Count => _points.Count;

    /// <summary>The RBF kernel: signal variance x exp(-|x - x'|^2 / (2 length scale^2)).</summary>
    public static double Kernel(GpRegression gp, ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double squared = 0;
        for (var i = 0; i < x.Length; i++) squared += (x[i] - y[i]) * (x[i] - y[i]);
        return gp.SignalVariance * Math.Exp(-squared / (2 * gp.LengthScale * gp.LengthScale));
    }

    /// <summary>
    /// The predictive distribution of the observation at x given every observation so far (the
    /// prior, N(0, signal variance + noise), before any). <see cref="Observe"/> then takes its value.
    /// </summary>
    public (double Mean, double Variance) Predict(ReadOnlySpan<double> x)
    {
        var n = _points.Count;
        var row = new double[n + 1];
        double mean = 0, explained = 0;
        for (var i = 0; i < n; i++)
        {
            // Forward substitution: l_i = (k_i - sum_{j<i} L_ij l_j) / L_ii.
            var li = Kernel(gp, x, _points[i]);
            var rowI = _rows[i];
            for (var j = 0; j < i; j++) li -= rowI[j] * row[j];
            li /= rowI[i];
            row[i] = li;
            mean += li * _a[i];
            explained += li * li;
        }
        // Clamped: with little noise, a point next to one seen leaves a variance at rounding level.
        var variance = Math.Max(Kernel(gp, x, x) + noiseVariance - explained, 1e-12 * gp.SignalVariance);
        row[n] = Math.Sqrt(variance);
        _pendingPoint = x.ToArray();
        _pendingRow = row;
        return (mean, variance);
    }

    /// <summary>Adds the observation y at the point <see cref="Predict"/> was last asked about.</summary>
    public void Observe(double y)
    {
        if (_pendingRow is not { } row || _pendingPoint is not { } point)
            throw new InvalidOperationException("Observe takes the value at the point last predicted: call Predict first");
        var n = _points.Count;
        double predicted = 0;
        for (var i = 0; i < n; i++) predicted += row[i] * _a[i];
        _a.Add((y - predicted) / row[n]);
        _rows.Add(row);
        _points.Add(point);
        (_pendingPoint, _pendingRow) = (null, null);
    }

    /// <summary>The Gaussian negative log-likelihood of y under N(mean, variance): what the models' loss is too.</summary>
    public static double NegativeLogLikelihood(double mean, double variance, double y) =>
        0.5 * (Math.Log(2 * Math.PI) + Math.Log(variance) + (y - mean) * (y - mean) / variance);
}
