using System.Globalization;
using MannLab.Data;
using MannLab.Models;
using MannLab.Runs;
using MannLab.Spec;
using static TorchSharp.torch;
using Device = TorchSharp.torch.Device;

namespace MannLab.Training;

/// <summary>
/// The paper's regression: each episode a fresh function from the task's GP prior, the model
/// predicting a Gaussian over y_t from [x_t, y_{t-1}], trained by its negative log-likelihood. Each
/// evaluation scores the model step by step on the held-out functions, and the exact GP posterior
/// (with the true hyperparameters, on the same points in the same order) beside it, as metrics:
/// eval_nll_step_t and eval_se_step_t, gp_nll_step_t and gp_se_step_t (the view regression_steps).
/// </summary>
internal sealed class RegressionTraining(Spec.Spec spec, GpRegression gp, Device device) : TaskTraining
{
    /// <summary>
    /// Held-out functions come from a fixed seed, so every run of the same task, whatever its model
    /// or training seed, is scored on the very same functions, as the GP is.
    /// </summary>
    public const long HeldOutSeed = 0;

    private readonly GpEpisodes _train = new(gp, spec.Training.Seed, stream: 1);
    private readonly GpEpisodes _test = HeldOut(gp);
    private readonly Lazy<StepScores> _gp = new(() => StepScores.OfPosterior(HeldOut(gp), spec.Evaluation.Episodes));
    private long _next;
    private RegressionBatch? _batch;

    /// <summary>The held-out functions of a task.</summary>
    public static GpEpisodes HeldOut(GpRegression gp) => new(gp, HeldOutSeed, stream: 2);

    public override EpisodeModel CreateModel() => ModelFactory.ForRegression(spec.Model, gp.Dimensions);

    public override Tensor Loss(EpisodeModel model, Tensor input, Tensor output, Tensor targets) => GaussianOutput.Loss(output, targets);

    public override int WindowAt(long episode) => 0;

    public override void StartAt(long episode) => _next = episode;

    public override int Next()
    {
        // Drawing a batch costs microseconds: no background producer is needed.
        _batch = _train.Batch(_next, spec.Training.BatchSize);
        _next += spec.Training.BatchSize;
        return 0;
    }

    public override (Tensor Input, Tensor Targets) Tensors() => RegressionTensors.From(_batch ?? throw new InvalidOperationException("Next first"), device);

    public override void Accumulate(Tensor output, Tensor targets) { }

    public override (IReadOnlyList<Metric> Metrics, IReadOnlyList<InstanceAccuracy> Rows) CloseWindow(long episode, int window) => ([], []);

    public override IReadOnlyDictionary<int, double> WindowAccuracy() => new Dictionary<int, double>();

    public override Evaluated Evaluate(EpisodeModel model, long episode)
    {
        var scores = StepScores.OfModel(model, _test, spec.Evaluation.Episodes, spec.Training.BatchSize, device);
        var last = gp.Points - 1;
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"held-out NLL {scores.Nll.Average():F3} (GP {_gp.Value.Nll.Average():F3}), last step {scores.Nll[last]:F3} (GP {_gp.Value.Nll[last]:F3})");
        return new Evaluated([.. scores.Metrics(episode, "eval"), .. _gp.Value.Metrics(episode, "gp")], [], null, summary);
    }

    public override IReadOnlyList<InstanceAccuracy> Complete(EpisodeModel model, long episode, IReadOnlyList<InstanceAccuracy> final) => [];

    public override (Tensor Input, int[] Sights) HeldOutEpisode() => (RegressionTensors.From(_test.Batch(0, 1), device).Input, new int[gp.Points]);

    /// <summary>The counts of points seen that a 1-D regression's bands are drawn after: few, where the variance shows most.</summary>
    public static IReadOnlyList<int> BandsSeen(GpRegression gp) => [.. new[] { 2, 5, 10 }.Where(k => k < gp.Points)];

    public override IReadOnlyList<RegressionBands> Bands(EpisodeModel model, long episode) =>
        gp.Dimensions == 1 ? [.. BandsSeen(gp).Select(seen => Bands(model, episode, seen))] : [];

    /// <summary>
    /// Held-out episode 0 after its first <paramref name="seen"/> points, on a grid over the input
    /// range and a margin beyond: for each grid point, the model is run on those points and then
    /// asked about the grid point (one batch row per grid point, so no query enters another's
    /// memory), next to the GP posterior given the same points and the function itself.
    /// </summary>
    public RegressionBands Bands(EpisodeModel model, long episode, int seen)
    {
        const int points = 121;
        var margin = 0.25 * (gp.InputHigh - gp.InputLow);
        double[] grid = [.. Enumerable.Range(0, points).Select(i => gp.InputLow - margin + i * (gp.InputHigh - gp.InputLow + 2 * margin) / (points - 1))];
        var heldOut = _test.Batch(0, 1);
        var input = new float[points * (seen + 1) * 2];
        for (var g = 0; g < points; g++)
            for (var t = 0; t <= seen; t++)
            {
                var at = (g * (seen + 1) + t) * 2;
                input[at] = t < seen ? heldOut.X[t] : (float)grid[g];
                input[at + 1] = t > 0 ? heldOut.Y[t - 1] : 0;
            }
        // In batches of training's size: a larger batch would grow the fused recurrence's workspace for good.
        double[] modelMean = new double[points], modelVariance = new double[points];
        var rows = spec.Training.BatchSize;
        model.eval();
        using (no_grad())
        using (model.HeldOutPass())
            for (var first = 0; first < points; first += rows)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(rows, points - first);
                var chunk = input.AsSpan(first * (seen + 1) * 2, count * (seen + 1) * 2).ToArray();
                var output = model.forward(tensor(chunk, [count, seen + 1, 2], device: device)).select(1, seen).cpu();
                var (mean, logVariance) = (output.select(1, 0).data<float>().ToArray(), output.select(1, 1).data<float>().ToArray());
                for (var i = 0; i < count; i++) (modelMean[first + i], modelVariance[first + i]) = (mean[i], Math.Exp(logVariance[i]));
            }
        model.train();
        var posterior = new GpPosterior(gp);
        for (var t = 0; t < seen; t++)
        {
            posterior.Predict([heldOut.X[t]]);
            posterior.Observe(heldOut.Y[t]);
        }
        var gpPredictions = grid.Select(x => posterior.Predict([x])).ToList();
        var function = _test.FunctionAt(0, [.. grid.Select(x => new[] { x })]);
        return new RegressionBands(episode, seen, grid, [.. function.Select(v => (double)v)], modelMean, modelVariance,
            [.. gpPredictions.Select(p => p.Mean)], [.. gpPredictions.Select(p => p.Variance)],
            [.. heldOut.X.Take(seen).Select(v => (double)v)], [.. heldOut.Y.Take(seen).Select(v => (double)v)]);
    }

    public override void Dispose() { }
}

/// <summary>A batch of regression episodes as tensors: input [B, T, D + 1] = [x_t, y_{t-1}] (y_{-1} = 0), targets [B, T] = y_t.</summary>
public static class RegressionTensors
{
    public static (Tensor Input, Tensor Targets) From(RegressionBatch batch, Device device)
    {
        int steps = batch.Steps, d = batch.Dimensions, width = d + 1;
        var input = new float[batch.BatchSize * steps * width];
        for (var b = 0; b < batch.BatchSize; b++)
            for (var t = 0; t < steps; t++)
            {
                var at = b * steps + t;
                Array.Copy(batch.X, at * d, input, at * width, d);
                if (t > 0) input[at * width + d] = batch.Y[at - 1];
            }
        return (tensor(input, [batch.BatchSize, steps, width], device: device), tensor(batch.Y, [batch.BatchSize, steps], device: device));
    }
}

/// <summary>
/// Per step index, the negative log-likelihood of y_t and the squared error of the predicted mean,
/// averaged over held-out episodes: a model's, or the exact GP posterior's.
/// </summary>
public sealed class StepScores(double[] nll, double[] squaredError)
{
    /// <summary>[T]: step t + 1's mean negative log-likelihood.</summary>
    public IReadOnlyList<double> Nll => nll;
    /// <summary>[T]: step t + 1's mean squared error.</summary>
    public IReadOnlyList<double> SquaredError => squaredError;

    /// <summary>
    /// As metrics: {prefix}_loss (the NLL over every step; the models' eval_loss is what training
    /// minimises), {prefix}_mse, and per step t from 1, {prefix}_nll_step_t and {prefix}_se_step_t.
    /// </summary>
    public IEnumerable<Metric> Metrics(long episode, string prefix)
    {
        yield return new Metric(episode, $"{prefix}_loss", nll.Average());
        yield return new Metric(episode, $"{prefix}_mse", squaredError.Average());
        for (var t = 0; t < nll.Length; t++)
        {
            yield return new Metric(episode, $"{prefix}_nll_step_{t + 1}", nll[t]);
            yield return new Metric(episode, $"{prefix}_se_step_{t + 1}", squaredError[t]);
        }
    }

    /// <summary>The model on held-out episodes 0 .. episodes - 1, without gradients.</summary>
    public static StepScores OfModel(EpisodeModel model, GpEpisodes heldOut, int episodes, int batchSize, Device device)
    {
        var steps = heldOut.Task.Points;
        double[] nll = new double[steps], squared = new double[steps];
        model.eval();
        using (no_grad())
        using (model.HeldOutPass())
            for (var first = 0; first < episodes; first += batchSize)
            {
                using var scope = NewDisposeScope();
                var (input, y) = RegressionTensors.From(heldOut.Batch(first, Math.Min(batchSize, episodes - first)), device);
                var output = model.forward(input);
                var stepNll = GaussianOutput.NegativeLogLikelihood(output, y).sum(0, keepdim: false).cpu().data<float>().ToArray();
                var stepSquared = (GaussianOutput.Split(output).Mean - y).square().sum(0, keepdim: false).cpu().data<float>().ToArray();
                for (var t = 0; t < steps; t++) (nll[t], squared[t]) = (nll[t] + stepNll[t], squared[t] + stepSquared[t]);
            }
        model.train();
        return new StepScores([.. nll.Select(v => v / episodes)], [.. squared.Select(v => v / episodes)]);
    }

    /// <summary>The exact GP posterior with the task's own hyperparameters on the same episodes, one observation at a time.</summary>
    public static StepScores OfPosterior(GpEpisodes heldOut, int episodes)
    {
        var (steps, d) = (heldOut.Task.Points, heldOut.Task.Dimensions);
        double[] nll = new double[steps], squared = new double[steps];
        for (var e = 0; e < episodes; e++)
        {
            var batch = heldOut.Batch(e, 1);
            var posterior = new GpPosterior(heldOut.Task);
            var x = new double[d];
            for (var t = 0; t < steps; t++)
            {
                for (var i = 0; i < d; i++) x[i] = batch.X[t * d + i];
                var (mean, variance) = posterior.Predict(x);
                double y = batch.Y[t];
                nll[t] += GpPosterior.NegativeLogLikelihood(mean, variance, y);
                squared[t] += (y - mean) * (y - mean);
                posterior.Observe(y);
            }
        }
        return new StepScores([.. nll.Select(v => v / episodes)], [.. squared.Select(v => v / episodes)]);
    }
}
