using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>
/// A regression's output: at each step, the mean and the log-variance of a Gaussian over y_t,
/// trained by its negative log-likelihood (the paper's regression, against the GP posterior's).
/// </summary>
public static class GaussianOutput
{
    /// <summary>Outputs per step: mean, log-variance.</summary>
    public const int Width = 2;

    /// <summary>[B, T] means and variances of [B, T, 2] outputs.</summary>
    public static (Tensor Mean, Tensor Variance) Split(Tensor output) => (output.select(2, 0), output.select(2, 1).exp());

    /// <summary>[B, T]: 1/2 (log 2 pi + log sigma^2 + (y - mu)^2 / sigma^2), with y [B, T].</summary>
    public static Tensor NegativeLogLikelihood(Tensor output, Tensor y)
    {
        var (mean, logVariance) = (output.select(2, 0), output.select(2, 1));
        return (logVariance + (y - mean).square() * (-logVariance).exp() + Math.Log(2 * Math.PI)) * 0.5;
    }

    /// <summary>The loss: the negative log-likelihood averaged over every step of every episode.</summary>
    public static Tensor Loss(Tensor output, Tensor y) => NegativeLogLikelihood(output, y).mean();
}
