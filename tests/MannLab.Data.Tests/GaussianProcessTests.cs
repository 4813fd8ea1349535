using MannLab.Spec;

namespace MannLab.Data.Tests;

/// <summary>The exact GP posterior (GpPosterior) and the regression episodes drawn from the prior (GpEpisodes).</summary>
public class GaussianProcessTests
{
    private static readonly GpRegression UnitKernel = new(1, 3, -1, 1, lengthScale: 1, signalVariance: 1, noiseVariance: 0.1);

    [Fact]
    public void The_incremental_posterior_matches_a_hand_computed_three_point_case()
    {
        // Observations y = 1, 0, -1 at x = 0, 1, 2; kernel exp(-(x - x')^2 / 2), noise variance 0.1.
        double[] x = [0, 1, 2], y = [1, 0, -1];
        var posterior = new GpPosterior(UnitKernel);
        var predictions = new List<(double Mean, double Variance)>();
        for (var i = 0; i < 3; i++)
        {
            predictions.Add(posterior.Predict([x[i]]));
            posterior.Observe(y[i]);
        }

        // Before any point: the prior of an observation, N(0, 1 + 0.1).
        predictions[0].Mean.Should().Be(0);
        predictions[0].Variance.Should().BeApproximately(1.1, 1e-12);
        // After one: mean k y / (1 + 0.1), variance 1.1 - k^2 / 1.1, with k = exp(-1/2).
        var k = Math.Exp(-0.5);
        predictions[1].Mean.Should().BeApproximately(k / 1.1, 1e-12);
        predictions[1].Variance.Should().BeApproximately(1.1 - k * k / 1.1, 1e-12);
        // After two: the 2x2 system by hand, K = [[1.1, k], [k, 1.1]], its inverse [[1.1, -k], [-k, 1.1]] / (1.21 - k^2).
        var k2 = Math.Exp(-2.0);
        var det = 1.21 - k * k;
        double[] ks = [k2, k]; // the kernel of x = 2 against x = 0 and x = 1
        double[] weights = [(1.1 * ks[0] - k * ks[1]) / det, (-k * ks[0] + 1.1 * ks[1]) / det];
        predictions[2].Mean.Should().BeApproximately(weights[0] * y[0] + weights[1] * y[1], 1e-12);
        predictions[2].Variance.Should().BeApproximately(1.1 - (weights[0] * ks[0] + weights[1] * ks[1]), 1e-12);
        // After all three, at x = 0.5: k*^T (K + 0.1 I)^-1 y and 1.1 - k*^T (K + 0.1 I)^-1 k*, solved by Cramer's rule
        // (python3, math only: 0.5782780540558257 and 0.1823952362853427).
        var (mean, variance) = posterior.Predict([0.5]);
        mean.Should().BeApproximately(0.5782780540558257, 1e-12);
        variance.Should().BeApproximately(0.1823952362853427, 1e-12);
        posterior.Count.Should().Be(3);
    }

    [Fact]
    public void The_negative_log_likelihood_is_the_gaussians()
    {
        GpPosterior.NegativeLogLikelihood(0, 1, 0).Should().BeApproximately(0.5 * Math.Log(2 * Math.PI), 1e-12);
        GpPosterior.NegativeLogLikelihood(1, 4, 3).Should().BeApproximately(0.5 * (Math.Log(2 * Math.PI) + Math.Log(4) + 4.0 / 4), 1e-12);
    }

    [Fact]
    public void Observing_before_predicting_is_refused()
    {
        var act = () => new GpPosterior(UnitKernel).Observe(1);
        act.Should().Throw<InvalidOperationException>().WithMessage("*call Predict first*");
    }

    private static readonly GpRegression TwoD = new(2, 20, -2, 3, lengthScale: 0.5, signalVariance: 2, noiseVariance: 0.05);

    [Fact]
    public void An_episode_depends_only_on_the_seed_the_stream_and_its_index()
    {
        var sampler = new GpEpisodes(TwoD, seed: 7, stream: 1);
        var batch = sampler.Batch(100, 4);
        var alone = new GpEpisodes(TwoD, seed: 7, stream: 1).Batch(102, 1);
        batch.X.AsSpan(2 * 20 * 2, 20 * 2).ToArray().Should().Equal(alone.X, "episode 102 is the same wherever its batch starts");
        batch.Y.AsSpan(2 * 20, 20).ToArray().Should().Equal(alone.Y);
        batch.F.AsSpan(2 * 20, 20).ToArray().Should().Equal(alone.F);
        new GpEpisodes(TwoD, seed: 8, stream: 1).Batch(102, 1).Y.Should().NotEqual(alone.Y, "another seed draws another function");
        new GpEpisodes(TwoD, seed: 7, stream: 2).Batch(102, 1).Y.Should().NotEqual(alone.Y, "the held-out stream is another");
        batch.X.Should().OnlyContain(v => v >= -2 && v <= 3);
        (batch.BatchSize, batch.Steps, batch.Dimensions, batch.FirstEpisode).Should().Be((4, 20, 2, 100L));
    }

    [Fact]
    public void Episodes_have_the_priors_variance_and_the_kernels_correlation()
    {
        // Over many episodes, y has variance signal + noise, y - f the noise's, and f at two inputs
        // the kernel's covariance; 4,000 episodes leave a sampling error of about 2%.
        var gp = new GpRegression(1, 2, 0, 0.5, lengthScale: 0.5, signalVariance: 2, noiseVariance: 0.1);
        var batch = new GpEpisodes(gp, seed: 3, stream: 1).Batch(0, 4000);
        double yy = 0, noise = 0, covariance = 0, expected = 0;
        for (var e = 0; e < 4000; e++)
        {
            for (var t = 0; t < 2; t++)
            {
                yy += batch.Y[2 * e + t] * batch.Y[2 * e + t];
                noise += Math.Pow(batch.Y[2 * e + t] - batch.F[2 * e + t], 2);
            }
            covariance += batch.F[2 * e] * batch.F[2 * e + 1];
            expected += GpPosterior.Kernel(gp, [batch.X[2 * e]], [batch.X[2 * e + 1]]);
        }
        (yy / 8000).Should().BeApproximately(2.1, 2.1 * 0.06);
        (noise / 8000).Should().BeApproximately(0.1, 0.1 * 0.06);
        (covariance / 4000).Should().BeApproximately(expected / 4000, 2 * 0.06);
    }

    [Fact]
    public void The_function_elsewhere_passes_through_the_episodes_own_values()
    {
        var gp = new GpRegression(1, 10, -1, 1, lengthScale: 0.5, signalVariance: 1, noiseVariance: 0.01);
        var sampler = new GpEpisodes(gp, seed: 1, stream: 2);
        var episode = sampler.Batch(5, 1);
        var atOwnPoints = sampler.FunctionAt(5, [.. episode.X.Select(v => new double[] { v })]);
        for (var t = 0; t < 10; t++) atOwnPoints[t].Should().BeApproximately(episode.F[t], 1e-3f, "f is drawn without noise");
        sampler.Batch(5, 1).Y.Should().Equal(episode.Y, "drawing f elsewhere leaves the episode as it was");
    }
}
