using System.Globalization;
using MannLab.Drawing;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Web;

/// <summary>
/// The report's section on the curriculum (the paper's section 4.1): each run trained with one, its
/// final held-out accuracy against the class count at each sight, the paper's claim that accuracy
/// decays gradually toward 100 classes, and a verdict by a rule the report states.
/// </summary>
public static partial class PaperReport
{
    /// <summary>"Gradually": no step between two class counts tested one after the other loses more than this share of the whole decline.</summary>
    private const double CliffShare = 0.5;

    /// <summary>A step up by more than this (points of accuracy) from one class count to the next is no decay.</summary>
    private const double RiseTolerance = 0.02;

    /// <summary>
    /// The verdict on "accuracy decays gradually toward 100 classes" at one sight, from accuracy by
    /// class count: it decays where the most classes score below the fewest and no count scores more
    /// than <see cref="RiseTolerance"/> above the one before it; gradually where no step between
    /// consecutive counts loses more than <see cref="CliffShare"/> of the whole decline.
    /// </summary>
    public static (bool Holds, string Figures) DecaysGradually(IReadOnlyDictionary<int, double> byClasses)
    {
        var counts = byClasses.Keys.Order().ToList();
        if (counts.Count < 2) throw new ArgumentException("a decay needs accuracy at two class counts or more", nameof(byClasses));
        var (fewest, most) = (byClasses[counts[0]], byClasses[counts[^1]]);
        var decline = fewest - most;
        var steps = counts.Zip(counts.Skip(1)).Select(p => (From: p.First, To: p.Second, Loss: byClasses[p.First] - byClasses[p.Second])).ToList();
        var rises = steps.Where(s => s.Loss < -RiseTolerance).ToList();
        var cliff = steps.MaxBy(s => s.Loss);
        var decays = decline > 0 && rises.Count == 0;
        var gradual = decline > 0 && cliff.Loss <= CliffShare * decline;
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"{Number(fewest)}% at {counts[0]} classes to {Number(most)}% at {counts[^1]}; ") +
            (rises.Count > 0 ? $"rises {string.Join(", ", rises.Select(s => $"{s.From} to {s.To} by {Number(-s.Loss)} points"))}; " : "") +
            string.Create(CultureInfo.InvariantCulture, $"the largest step down, {cliff.From} to {cliff.To} classes, {Number(cliff.Loss)} points") +
            (decline > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({100 * cliff.Loss / decline:F0}% of the decline)") : "");
        return (decays && gradual, figures);
    }

    /// <summary>A curriculum claim is judged only where the model learned: at the task's classes, the 2nd sight at least this far above chance.</summary>
    private const double CurriculumLearnedMargin = 0.10;

    private static IEnumerable<Block> Curriculum(IReadOnlyList<CurriculumSetting> settings)
    {
        if (settings.Count == 0) yield break;
        yield return new Heading("Curriculum and up to 100 classes (section 4.1)");
        yield return new Paragraph("Runs trained with a curriculum: the classes of the training episodes grow on a schedule, then the trained " +
                                   "model is evaluated on held-out classes at each class count, each episode of the task's shape. Numbers are " +
                                   "final held-out accuracy (%). The paper: accuracy decays gradually toward 100 classes. Verdict, at each sight " +
                                   $"after the 1st: it decays where the most classes score below the fewest and no count scores over {100 * RiseTolerance:F0} " +
                                   $"points above the one before; gradually where no step between consecutive counts loses over {100 * CliffShare:F0}% " +
                                   "of the whole decline. A verdict is given once a run has succeeded, has been evaluated at three class counts or more, " +
                                   $"and its 2nd sight at its task's classes ended at least {100 * CurriculumLearnedMargin:F0} points above chance. " +
                                   "Runs that differ in their seed alone are one setting: each is judged, and so is their mean once two have succeeded.");
        foreach (var setting in settings)
        {
            var who = $"{setting.Experiment}, {setting.Model}" + (setting.Variant == "" ? "" : $" ({setting.Variant})");
            yield return new Heading($"Curriculum: {who}");
            yield return new Paragraph($"{setting.Schedule}. " + string.Join("; ", setting.Runs.Select(r => $"run {r.RunId} (seed {r.Seed}), {r.Status}")) + ".");
            var seeds = setting.Means.Select(m => m.Runs).DefaultIfEmpty(0).Max();
            var mean = setting.Means.GroupBy(m => m.Classes).ToDictionary(c => c.Key, c => (IReadOnlyDictionary<int, double>)c.ToDictionary(m => m.Instance, m => m.Mean));
            foreach (var run in setting.Runs.Where(r => r.ByClasses.Count > 0))
            {
                yield return new Paragraph($"Run {run.RunId} (seed {run.Seed}):");
                yield return ByClassesGrid(setting.TaskClasses, run.ByClasses, (classes, sight) => Number(run.ByClasses[classes][sight]));
                yield return new Paragraph($"Verdict: {CurriculumVerdict(run.Status, setting.TaskClasses, run.ByClasses)}.");
            }
            if (seeds >= 2)
            {
                var cells = setting.Means.ToDictionary(m => (m.Classes, m.Instance));
                yield return new Paragraph($"Mean over the {seeds} seeds that succeeded, ± the 95% t-interval:");
                yield return ByClassesGrid(setting.TaskClasses, mean, (classes, sight) => cells[(classes, sight)] is { Ci95: { } ci } m
                    ? $"{Number(m.Mean)} ± {Number(ci)}" : Number(cells[(classes, sight)].Mean));
                yield return new Paragraph($"Verdict on the mean: {CurriculumVerdict(RunStatus.Succeeded, setting.TaskClasses, mean)}.");
            }
            if (mean.Count == 0) continue;
            var sights = mean.Values.SelectMany(a => a.Keys).Distinct().Order().ToList();
            yield return new Figure($"curriculum-{setting.Runs[0].RunId}",
                Charts.Lines($"{who}: final held-out accuracy against classes" + (seeds >= 2 ? $", mean of {seeds} seeds" : ""), "classes", "accuracy",
                    sights.Select(k => new Series(RunFormat.Ordinal(k), [.. mean.Keys.Order().Where(c => mean[c].ContainsKey(k)).Select(c => (double)c)],
                        [.. mean.OrderBy(c => c.Key).Where(c => c.Value.ContainsKey(k)).Select(c => c.Value[k])])), (0, 1)));
        }
    }

    /// <summary>Classes down, sights across, the class count trained for marked.</summary>
    private static Grid ByClassesGrid(int taskClasses, IReadOnlyDictionary<int, IReadOnlyDictionary<int, double>> byClasses, Func<int, int, string> cell)
    {
        var sights = byClasses.Values.SelectMany(a => a.Keys).Distinct().Order().ToList();
        return new Grid(["classes", .. sights.Select(RunFormat.Ordinal)],
            [.. byClasses.OrderBy(c => c.Key).Select(c => (IReadOnlyList<Cell>)[
                new(c.Key.ToString(CultureInfo.InvariantCulture) + (c.Key == taskClasses ? " (trained for)" : "")),
                .. sights.Select(k => new Cell(c.Value.ContainsKey(k) ? cell(c.Key, k) : ""))])]);
    }

    private static string CurriculumVerdict(string status, int taskClasses, IReadOnlyDictionary<int, IReadOnlyDictionary<int, double>> byClasses)
    {
        if (status != RunStatus.Succeeded) return "not judged yet: the run has not succeeded";
        if (byClasses.Count < 3) return "not judged: evaluated at fewer than three class counts";
        // String labels name 3,125 codes and one-hot the task's classes: chance is one over the episode's classes either way.
        var chance = 1.0 / taskClasses;
        if (!byClasses.TryGetValue(taskClasses, out var trained) || !trained.TryGetValue(2, out var second) || second < chance + CurriculumLearnedMargin)
            return string.Create(CultureInfo.InvariantCulture,
                $"not judged: at its {taskClasses} classes the 2nd sight did not end {100 * CurriculumLearnedMargin:F0} points above chance, so the model did not learn");
        // A sight is judged where three class counts or more had it (a long sight may be missing where classes are many and episodes short).
        var judged = byClasses.Values.SelectMany(a => a.Keys).Distinct().Order().Where(k => k > 1)
            .Select(k => (Sight: k, ByClasses: byClasses.Where(c => c.Value.ContainsKey(k)).ToDictionary(c => c.Key, c => c.Value[k])))
            .Where(s => s.ByClasses.Count >= 3).Select(s => (s.Sight, Verdict: DecaysGradually(s.ByClasses))).ToList();
        return (judged.All(j => j.Verdict.Holds) ? "holds" : "does not hold") + ": " +
               string.Join("; ", judged.Select(j => $"{RunFormat.Ordinal(j.Sight)} sight {(j.Verdict.Holds ? "yes" : "no")}, {j.Verdict.Figures}"));
    }
}
