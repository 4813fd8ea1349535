using System.Globalization;
using MannLab.Drawing;
using MannLab.Runs;
using MannLab.Storage;

namespace MannLab.Web;

/// <summary>
/// The report's section on persistent memory (the paper's section 4.3): each pair of runs that
/// differ only in whether memory is wiped between episodes, their held-out curves at the 2nd
/// sight, the paper's claim for that setting, and a verdict by a rule the report states.
/// </summary>
public static partial class PaperReport
{
    /// <summary>Curves are tabled at multiples of this many episodes.</summary>
    private const long TabledEvery = 10_000;

    /// <summary>A curve's steepest climb counts as "the sudden jump" when the other's is less than this share of it.</summary>
    private const double JumpRatio = 0.5;

    /// <summary>"Much more slowly": halfway to the wiped memory's final accuracy at least this many times later, or never.</summary>
    private const double SlowerFactor = 2;

    /// <summary>"Barely hurt": the final 2nd-sight accuracy at most this far below the wiped memory's.</summary>
    private const double BarelyHurtGap = 0.05;

    /// <summary>A claim about learning is judged only where the wiped memory ended at least this far above chance: else neither learned.</summary>
    private const double LearnedMargin = 0.10;

    private const string JumpRule = "the steepest climb between two evaluations, per 10,000 episodes";

    /// <summary>The verdict on "persistent memory learns much more slowly, without the sudden jump".</summary>
    public static string MuchSlowerWithoutTheJump(IReadOnlyDictionary<long, double> wiped, IReadOnlyDictionary<long, double> persistent, int classes)
    {
        if (wiped.Count < 2 || persistent.Count < 2) return "not judged: too few evaluations";
        if (Unlearned(wiped, classes) is { } unlearned) return unlearned;
        var chance = 1.0 / classes;
        var halfway = chance + (wiped[wiped.Keys.Max()] - chance) / 2;
        long? First(IReadOnlyDictionary<long, double> curve) => curve.Keys.Order().Where(e => curve[e] >= halfway).Select(e => (long?)e).FirstOrDefault();
        var (wipedAt, persistentAt) = (First(wiped), First(persistent));
        var (wipedJump, persistentJump) = (SteepestClimb(wiped), SteepestClimb(persistent));
        var slower = wipedAt is { } w && (persistentAt is not { } p || p >= SlowerFactor * w);
        var noJump = persistentJump < JumpRatio * wipedJump;
        static string Part(bool holds) => holds ? "yes" : "no";
        var reached = persistentAt is { } at && wipedAt is { } from
            ? string.Create(CultureInfo.InvariantCulture, $"at {at:N0} episodes, {(double)at / from:F1}x the wiped memory's {from:N0}")
            : $"not within {persistent.Keys.Max():N0} episodes";
        var figures = string.Create(CultureInfo.InvariantCulture,
            $"much more slowly? {Part(slower)}: halfway from chance to the wiped memory's final accuracy ({Number(halfway)}%) {reached}; " +
            $"without the sudden jump? {Part(noJump)}: {JumpRule}, persistent {Number(persistentJump)} points against {Number(wipedJump)} " +
            $"({100 * persistentJump / wipedJump:F0}%)");
        return (slower && noJump ? "holds" : "does not hold") + ": " + figures;
    }

    /// <summary>The verdict on "persistent memory is barely hurt": the final accuracies at the last evaluation both curves have.</summary>
    public static string BarelyHurt(IReadOnlyDictionary<long, double> wiped, IReadOnlyDictionary<long, double> persistent, int classes)
    {
        var common = wiped.Keys.Intersect(persistent.Keys).ToList();
        if (common.Count == 0) return "not judged: no evaluation in common";
        var last = common.Max();
        if (Unlearned(wiped, classes) is { } unlearned) return unlearned;
        var gap = wiped[last] - persistent[last];
        return (gap <= BarelyHurtGap ? "holds" : "does not hold") +
               string.Create(CultureInfo.InvariantCulture, $": at {last:N0} episodes persistent {Number(persistent[last])}%, wiped {Number(wiped[last])}%, a gap of {Number(gap)} points");
    }

    /// <summary>Why a claim is not judged when the wiped memory ended near chance, where every comparison is between two runs that learned nothing; else null.</summary>
    private static string? Unlearned(IReadOnlyDictionary<long, double> wiped, int classes)
    {
        var (last, chance) = (wiped.Keys.Max(), 1.0 / classes);
        return wiped[last] >= chance + LearnedMargin ? null : string.Create(CultureInfo.InvariantCulture,
            $"not judged: the wiped memory ended at {Number(wiped[last])}% at {last:N0} episodes, within {100 * LearnedMargin:F0} points of chance ({Number(chance)}%), so neither learned");
    }

    /// <summary>The largest rise of a curve between consecutive evaluations, scaled to 10,000 episodes.</summary>
    private static double SteepestClimb(IReadOnlyDictionary<long, double> curve)
    {
        var steps = curve.Keys.Order().ToList();
        return steps.Zip(steps.Skip(1)).Select(p => (curve[p.Second] - curve[p.First]) * 10_000.0 / (p.Second - p.First)).DefaultIfEmpty(0).Max();
    }

    /// <summary>The paper's claim for a setting, and its verdict from the wiped and the persistent curve; null where the paper makes none.</summary>
    private static (string Claim, Func<IReadOnlyDictionary<long, double>, IReadOnlyDictionary<long, double>, string> Verdict)? PersistentClaim(int classes, string episode) =>
        (classes, episode) switch
        {
            (5, "10 per class") => ("learns much more slowly, without the sudden jump",
                (wiped, persistent) => MuchSlowerWithoutTheJump(wiped, persistent, classes)),
            (10, "75 steps") => ("is barely hurt", (wiped, persistent) => BarelyHurt(wiped, persistent, classes)),
            _ => null,
        };

    private static IEnumerable<Block> PersistentMemory(IReadOnlyList<MemoryComparisonRun> runs)
    {
        if (runs.Count == 0) yield break;
        yield return new Heading("Persistent memory (section 4.3)");
        yield return new Paragraph("Runs that differ only in whether memory is wiped between episodes. With persistent memory each training " +
                                   "batch, and each held-out evaluation, starts from the memory the previous batch ended in. Numbers are held-out " +
                                   "accuracy (%) at the 2nd sight of a class during training. Verdicts: \"much more slowly\" holds where the " +
                                   $"persistent memory reaches halfway from chance to the wiped memory's final accuracy at least {SlowerFactor}x later " +
                                   $"or never, and \"without the sudden jump\" where its steepest climb ({JumpRule}) is under {100 * JumpRatio:F0}% of " +
                                   $"the wiped memory's; \"barely hurt\" where its final accuracy is at most {100 * BarelyHurtGap:F0} points below. " +
                                   $"A verdict is given once both runs have succeeded, and only where the wiped memory ended at least {100 * LearnedMargin:F0} " +
                                   "points above chance.");
        foreach (var pair in runs.GroupBy(r => r.Setting))
        {
            var (classes, episode) = (pair.First().Classes, pair.First().Episode);
            var seed = System.Text.Json.Nodes.JsonNode.Parse(pair.Key)?["training"]?["seed"]?.ToString();
            yield return new Heading($"Persistent memory: {classes} classes, {episode}, seed {seed}");
            var steps = pair.SelectMany(r => r.SecondSight.Keys).Where(e => e % TabledEvery == 0).Distinct().Order().ToList();
            yield return new Grid(["memory", "run", "status", .. steps.Select(e => $"{e / 1000}k")],
                [.. pair.OrderBy(r => r.Persistent).Select(r => (IReadOnlyList<Cell>)[new(r.Persistent ? "persistent" : "wiped"), new("run", [r.RunId]),
                    new(r.Status), .. steps.Select(e => new Cell(r.SecondSight.TryGetValue(e, out var a) ? Number(a) : ""))])]);
            var wiped = pair.Where(r => !r.Persistent).ToList();
            var persistent = pair.Where(r => r.Persistent).ToList();
            if (PersistentClaim(classes, episode) is { } claim)
            {
                var done = pair.All(r => r.Status == RunStatus.Succeeded);
                var verdict = done && wiped.Count == 1 && persistent.Count == 1
                    ? claim.Verdict(wiped[0].SecondSight, persistent[0].SecondSight)
                    : "not judged yet: a run of the pair has not succeeded";
                yield return new Paragraph($"The paper: at {classes} classes ({episode}), persistent memory {claim.Claim}. Verdict: {verdict}.");
            }
            yield return new Figure($"persistent-memory-{classes}-{episode.Replace(' ', '-')}-seed-{seed}", Charts.Lines(
                $"{classes} classes, {episode}: held-out accuracy at the 2nd sight", "episodes", "accuracy",
                pair.OrderBy(r => r.Persistent).Select(r => new Series($"{(r.Persistent ? "persistent" : "wiped")} ({r.RunId})",
                    [.. r.SecondSight.Keys.Order().Select(e => (double)e)], [.. r.SecondSight.OrderBy(a => a.Key).Select(a => a.Value)])), (0, 1)));
        }
    }
}
