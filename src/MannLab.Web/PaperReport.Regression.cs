using System.Globalization;
using MannLab.Drawing;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Web;

/// <summary>
/// The report's section on the paper's GP regression: each run's final held-out NLL against the
/// points seen beside the exact GP posterior's, the paper's claims (1-D: the predictions follow the
/// function and their variance grows away from the points seen; 2-D and 3-D: the log-likelihood
/// tracks the GP's and improves as points are stored), and a verdict on each by a rule stated here.
/// </summary>
public static partial class PaperReport
{
    /// <summary>"Improves as points are stored": the last 10 steps' mean NLL at least this far (nats) below the 1st step's.</summary>
    private const double ImprovementNats = 0.2;

    /// <summary>"Tracks the GP's": the model's improvement from the 1st step to the last 10 at least this share of the GP's.</summary>
    private const double TrackingShare = 0.5;

    /// <summary>"Follows the function": near the points seen, the mean's RMS error at most this share of the prior mean's (zero).</summary>
    private const double FollowShare = 0.5;

    /// <summary>"Variance grows away": the mean variance beyond one length scale of every point seen at least this many times that within a quarter.</summary>
    private const double VarianceRatio = 1.5;

    /// <summary>The NLL claim: it improves as points are stored, and tracks the GP's. Steps are 0-based here (index 0 = before any point).</summary>
    public static (bool Improves, bool Tracks, string Figures) TracksTheGp(IReadOnlyList<double> model, IReadOnlyList<double> gp)
    {
        if (model.Count < 11 || gp.Count != model.Count) throw new ArgumentException("the claim needs 11 steps or more of both predictors", nameof(model));
        double Late(IReadOnlyList<double> nll) => nll.Skip(nll.Count - 10).Average();
        var (modelGain, gpGain) = (model[0] - Late(model), gp[0] - Late(gp));
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"NLL {model[0]:F3} at the 1st step, {Late(model):F3} over the last 10 (GP {gp[0]:F3} and {Late(gp):F3}): " +
            $"the model gains {modelGain:F3} nats, {(gpGain > 0 ? 100 * modelGain / gpGain : double.NaN):F0}% of the GP's {gpGain:F3}");
        return (modelGain >= ImprovementNats, gpGain > 0 && modelGain >= TrackingShare * gpGain, figures);
    }

    /// <summary>The 1-D claim on one set of bands: the mean follows the function near the points seen, and the variance grows away from them.</summary>
    public static (bool Follows, bool? Grows, string Figures) FollowsTheFunction(RegressionBands b, double lengthScale)
    {
        var distance = b.Grid.Select(x => b.SeenX.Min(s => Math.Abs(s - x))).ToArray();
        var near = Enumerable.Range(0, b.Grid.Length).Where(i => distance[i] <= lengthScale).ToList();
        var model = Math.Sqrt(near.Average(i => Math.Pow(b.ModelMean[i] - b.Function[i], 2)));
        var prior = Math.Sqrt(near.Average(i => Math.Pow(b.Function[i], 2)));
        var close = Enumerable.Range(0, b.Grid.Length).Where(i => distance[i] <= lengthScale / 4).ToList();
        var far = Enumerable.Range(0, b.Grid.Length).Where(i => distance[i] > lengthScale).ToList();
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"after {b.Seen} points, within one length scale of them the mean's RMS error is {model:F3} against the prior's {prior:F3}");
        if (far.Count == 0 || close.Count == 0)
            return (model <= FollowShare * prior, null, figures + "; no input lies beyond one length scale of every point seen");
        var (varianceNear, varianceFar) = (close.Average(i => b.ModelVariance[i]), far.Average(i => b.ModelVariance[i]));
        return (model <= FollowShare * prior, varianceFar >= VarianceRatio * varianceNear, figures + string.Create(CultureInfo.InvariantCulture,
            $"; its variance is {varianceNear:F3} within a quarter length scale and {varianceFar:F3} beyond one (GP " +
            $"{close.Average(i => b.GpVariance[i]):F3} and {far.Average(i => b.GpVariance[i]):F3})"));
    }

    private static IEnumerable<Block> Regression(IReadOnlyList<RegressionRun> runs)
    {
        if (runs.Count == 0) yield break;
        yield return new Heading("Gaussian-process regression");
        yield return new Paragraph("Each episode is a fresh function from a GP prior; the model sees [x_t, y_{t-1}] and predicts a Gaussian over y_t. " +
                                   "Numbers are the final held-out negative log-likelihood (nats, lower is better) averaged over the held-out functions, " +
                                   "the model's beside the exact GP posterior's with the true hyperparameters on the same points in the same order. " +
                                   $"Verdicts: the NLL improves as points are stored where the last 10 steps are at least {ImprovementNats} nats below the 1st, " +
                                   $"and tracks the GP's where that gain is at least {100 * TrackingShare:F0}% of the GP's own. In 1-D, the predictions follow the " +
                                   $"function where, within one length scale of the points seen, the mean's RMS error is at most {100 * FollowShare:F0}% of the prior mean's, " +
                                   $"and their variance grows away from the points where beyond one length scale it is at least {VarianceRatio}x that within a " +
                                   "quarter, judged on the held-out function drawn at the latest checkpoint. A verdict waits for the run to succeed.");
        yield return new Grid(["run", "model", "task", "status", "1st step", "steps 2-10", "last 10", "GP 1st", "GP last 10"],
            [.. runs.Where(r => r.ModelNll.Count > 10).Select(r => (IReadOnlyList<Cell>)[
                new(r.RunId), new(r.Model), new(r.Task), new(r.Status), Nats(r.ModelNll[0]), Nats(r.ModelNll.Skip(1).Take(9).Average()),
                Nats(r.ModelNll.TakeLast(10).Average()), Nats(r.GpNll[0]), Nats(r.GpNll.TakeLast(10).Average())])]);
        foreach (var run in runs)
        {
            yield return new Heading($"Regression: {run.Experiment}, {run.Model}, {run.Dimensions}-D");
            if (run.Status != RunStatus.Succeeded || run.ModelNll.Count <= 10)
            {
                yield return new Paragraph($"Run {run.RunId}, {run.Status}: not judged yet" +
                                           (run.ModelNll.Count is > 0 and <= 10 ? ": fewer than 11 steps per episode" : ": the run has not succeeded") + ".");
                continue;
            }
            var (improves, tracks, figures) = TracksTheGp(run.ModelNll, run.GpNll);
            var claim = run.Dimensions == 1 ? "its predictions follow the function, their variance growing away from the points seen"
                : "its log-likelihood tracks the GP's and improves as points are stored";
            var verdicts = new List<string> { $"improves as points are stored: {Yes(improves)}", $"tracks the GP's: {Yes(tracks)}", figures };
            var bandVerdicts = run.Dimensions == 1 ? run.Bands.Select(b => FollowsTheFunction(b, run.LengthScale)).ToList() : [];
            verdicts.AddRange(bandVerdicts.Select(v =>
                $"follows the function: {Yes(v.Follows)}; variance grows away: {(v.Grows is { } g ? Yes(g) : "not judged")}, {v.Figures}"));
            var holds = run.Dimensions == 1
                ? bandVerdicts.Count > 0 && bandVerdicts.All(v => v is { Follows: true, Grows: not false }) && bandVerdicts.Any(v => v.Grows == true)
                : improves && tracks;
            yield return new Paragraph($"Run {run.RunId}, {run.Task}. The paper: {claim}. Verdict: {(holds ? "holds" : "does not hold")}: {string.Join("; ", verdicts)}.");
            yield return new Figure($"regression-{run.RunId}", Charts.Lines($"{run.Model}, {run.Dimensions}-D: final held-out NLL against points seen",
                "points seen", "negative log-likelihood",
                [new Series(run.Model, [.. run.ModelNll.Select((_, i) => (double)i)], run.ModelNll), new Series("GP posterior", [.. run.GpNll.Select((_, i) => (double)i)], run.GpNll)]));
            if ((run.Bands.FirstOrDefault(b => b.Seen == 5) ?? run.Bands.FirstOrDefault()) is { } shown)
                yield return new Figure($"bands-{run.RunId}", Charts.Bands($"{run.Model}, 1-D: a held-out function after {shown.Seen} points", shown, run.Model));
        }
    }

    private static Cell Nats(double nll) => new(double.IsFinite(nll) ? nll.ToString("F3", CultureInfo.InvariantCulture) : "");

    private static string Yes(bool holds) => holds ? "yes" : "no";
}
