using MannLab.Runs;
using System.Text.RegularExpressions;
using MannLab.Spec;
using MannLab.Storage;

namespace MannLab.Web.Tests;

/// <summary>The reproduction report's judgement and content, from report data as the database gives it.</summary>
public class PaperReportTests
{
    private static readonly Dictionary<int, double> PaperMann = new() { [1] = 0.364, [2] = 0.828, [3] = 0.910, [10] = 0.981 };

    private static Dictionary<int, (double, double?)> Ours(params (int Sight, double Mean, double? Ci)[] sights) =>
        sights.ToDictionary(s => s.Sight, s => (s.Mean, s.Ci));

    [Fact]
    public void A_status_judges_from_the_second_sight_at_the_mean_then_the_interval()
    {
        PaperReport.Status(PaperMann, null).Should().Be("not yet run");
        // The 1st sight is below the paper's and does not count.
        PaperReport.Status(PaperMann, Ours((1, 0.2, null), (2, 0.83, null), (3, 0.92, null), (10, 0.99, null))).Should().Be("reproduced");
        PaperReport.Status(PaperMann, Ours((2, 0.80, 0.05), (3, 0.92, 0.01), (10, 0.99, null))).Should().Be("within the interval");
        PaperReport.Status(PaperMann, Ours((2, 0.70, 0.05), (3, 0.89, 0.01), (10, 0.99, null))).Should().Be("short by 12.8 points at the 2nd sight");
        PaperReport.Status(PaperMann, Ours((2, 0.80, null), (10, 0.99, null))).Should().Be("short by 2.8 points at the 2nd sight", "one run has no interval");
    }

    private static PaperReportData Data()
    {
        // A Table 1 MANN trained with MannLab's budget and extensions, from its canonical spec less its seed.
        var spec = Experiments.parse("x.yaml", """
            name: table1-mann-extended
            model: {kind: mann, lrua: {least_used: per-head, key_strength: learned, write: add-vector}}
            training: {optimizer: adam, lr: 1e-3, episodes: 400000, seed: 3}
            """).ResultValue.Runs.Head.Json;
        PaperRow Row(string table, int classes, string model, string provenance, params double[] at) =>
            new(table, classes, model, provenance, new[] { 1, 2, 3, 4, 5, 10 }.Zip(at).ToDictionary(p => p.First, p => p.Second), new Dictionary<int, (string, double)>());
        return new PaperReportData(
        [
            Row("table1", 5, "human", "published", 0.345, 0.573, 0.701, 0.718, 0.814, 0.924),
            Row("table1", 5, "mann", "published", 0.364, 0.828, 0.910, 0.926, 0.949, 0.981) with
            {
                BestReimplementation = new Dictionary<int, (string, double)> { [2] = ("leputa_mann_meta_learning", 0.892) },
            },
            Row("table2", 15, "mann_lstm_controller", "as transcribed", 0.001, 0.626, 0.793, 0.866, 0.887, 0.953),
        ],
        [
            new ReproducedRow("table1", 5, "mann", "table1-mann-extended", "per-head rule, learned key strength, add vector", spec,
                ["aaaaaaaaaaaa", "bbbbbbbbbbbb"], Ours((1, 0.30, 0.02), (2, 0.85, 0.01), (3, 0.93, 0.01), (4, 0.94, 0.01), (5, 0.95, 0.01), (10, 0.985, 0.004)),
                400000, 41.5),
        ], [], [], []);
    }

    [Fact]
    public void Each_row_stands_beside_the_papers_with_its_runs_status_and_every_setting_that_is_not_the_papers()
    {
        var html = System.Net.WebUtility.HtmlDecode(PaperReport.Html(Data(), new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero), site: true));

        html.Should().Contain("Table 1: Omniglot, 5 classes, one-hot labels").And.Contain("Table 2: Omniglot, 15 classes, string labels (as transcribed)");
        html.Should().Contain("MannLab: table1-mann-extended (per-head rule, learned key strength, add vector)");
        html.Should().Contain("85.0 ± 1.0 (+2.2)", "the 2nd sight: mean, interval, and the difference from 82.8");
        html.Should().Contain("<a href=\"/runs/aaaaaaaaaaaa\">aaaaaaaaaaaa</a>", "on the page, a row links to its runs");
        html.Should().Contain("reproduced").And.Contain("people, not a model").And.Contain("not yet run", "Table 2's MANN has no runs");
        html.Should().Contain("best public reimplementation: leputa_mann_meta_learning").And.Contain("89.2");
        html.Should().Contain("paper (as transcribed)");
        // Every trained setting away from the paper's Table 1 MANN, and nothing that is bookkeeping (the seed).
        foreach (var difference in new[] { "training.optimizer: adam (paper: rmsprop)", "training.lr: 0.001 (paper: 0.0001)", "training.episodes: 400000 (paper: 100000)",
                     "model.lrua.least_used: per-head (paper: literal)", "model.lrua.key_strength: learned (paper: none)", "model.lrua.write: add-vector (paper: key)" })
            html.Should().Contain(difference);
        html.Should().NotContain("training.seed").And.NotContain("training.momentum", "momentum does not apply to Adam: the optimiser's line says so");
        // A chart per table and setting, with the paper's and MannLab's series in its legend.
        Regex.Matches(html, "<svg").Count.Should().Be(2);
        html.Should().Contain("paper: mann").And.Contain("MannLab: table1-mann-extended");
    }

    [Fact]
    public void The_file_forms_carry_the_same_content_and_stand_alone()
    {
        var when = new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);
        var html = System.Net.WebUtility.HtmlDecode(PaperReport.Html(Data(), when, site: false));
        var markdown = PaperReport.Markdown(Data(), when);

        html.Should().NotContain("href=\"/").And.Contain("2: aaaaaaaaaaaa bbbbbbbbbbbb", "a file names the runs; it has no site to link to");
        markdown.Should().StartWith("# " + PaperReport.Title).And.Contain("## Table 2: Omniglot, 15 classes, string labels (as transcribed)");
        markdown.Should().Contain("| mann | MannLab: table1-mann-extended (per-head rule, learned key strength, add vector) | 30.0 ± 2.0 (-6.4) | 85.0 ± 1.0 (+2.2) |");
        var images = Regex.Matches(markdown, @"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)");
        images.Should().HaveCount(2);
        Convert.FromBase64String(images[0].Groups[1].Value)[..4].Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G');
    }

    private static Dictionary<long, double> Curve(params (long Episodes, double Accuracy)[] points) => points.ToDictionary(p => p.Episodes, p => p.Accuracy);

    // 5 classes: chance 0.2. The wiped memory jumps from 0.3 to 0.8 between 40k and 50k and ends at 0.9;
    // halfway from chance to that is 0.55.
    private static readonly Dictionary<long, double> Jumping = Curve((10_000, 0.25), (20_000, 0.28), (30_000, 0.3), (40_000, 0.3), (50_000, 0.8), (60_000, 0.9));

    [Fact]
    public void Much_slower_without_the_jump_holds_for_a_slow_steady_climb_and_not_for_a_late_jump_or_an_equal_curve()
    {
        var steady = Curve((10_000, 0.22), (20_000, 0.26), (30_000, 0.30), (40_000, 0.34), (50_000, 0.38), (60_000, 0.42));
        PaperReport.MuchSlowerWithoutTheJump(Jumping, steady, 5).Should().Be("holds: much more slowly? yes: halfway from chance to the wiped " +
            "memory's final accuracy (55.0%) not within 60,000 episodes; without the sudden jump? yes: the steepest climb between two evaluations, " +
            "per 10,000 episodes, persistent 4.0 points against 50.0 (8%)");
        // Late, but with a jump of its own: not "without the sudden jump".
        var lateJump = Curve((10_000, 0.22), (50_000, 0.25), (90_000, 0.3), (100_000, 0.75));
        PaperReport.MuchSlowerWithoutTheJump(Jumping, lateJump, 5).Should().StartWith("does not hold: much more slowly? yes: ")
            .And.Contain("at 100,000 episodes, 2.0x the wiped memory's 50,000").And.Contain("without the sudden jump? no: ");
        PaperReport.MuchSlowerWithoutTheJump(Jumping, Jumping, 5).Should().StartWith("does not hold: ");
        PaperReport.MuchSlowerWithoutTheJump(Jumping, Curve((10_000, 0.2)), 5).Should().Be("not judged: too few evaluations");
    }

    [Fact]
    public void Barely_hurt_holds_within_five_points_at_the_last_evaluation_both_curves_have()
    {
        var wiped = Curve((50_000, 0.70), (100_000, 0.80));
        PaperReport.BarelyHurt(wiped, Curve((50_000, 0.5), (100_000, 0.76)), 10).Should()
            .Be("holds: at 100,000 episodes persistent 76.0%, wiped 80.0%, a gap of 4.0 points");
        PaperReport.BarelyHurt(wiped, Curve((50_000, 0.69), (100_000, 0.70)), 10).Should().StartWith("does not hold: ");
        PaperReport.BarelyHurt(wiped, Curve((50_000, 0.69)), 10).Should().StartWith("holds: at 50,000 episodes", "a persistent run still training is judged where both are");
        PaperReport.BarelyHurt(wiped, Curve((60_000, 0.69)), 10).Should().Be("not judged: no evaluation in common");
        // Two runs at chance (10%) are level, but that says nothing of the claim.
        var atChance = Curve((50_000, 0.10), (100_000, 0.11));
        PaperReport.BarelyHurt(atChance, atChance, 10).Should().StartWith("not judged: the wiped memory ended at 11.0% at 100,000 episodes");
        PaperReport.MuchSlowerWithoutTheJump(atChance, atChance, 10).Should().StartWith("not judged: the wiped memory ended at 11.0%");
    }

    [Fact]
    public void Each_persistent_memory_pair_has_its_curves_the_papers_claim_and_a_verdict_once_both_runs_succeeded()
    {
        var flat = Curve((10_000, 0.22), (20_000, 0.24), (30_000, 0.25), (40_000, 0.26), (50_000, 0.27), (60_000, 0.28));
        var data = Data() with
        {
            PersistentMemory =
            [
                new("{\"training\":{\"seed\":0},\"task\":{\"classes\":5}}", 5, "10 per class", false, "cccccccccccc", "succeeded", Jumping),
                new("{\"training\":{\"seed\":0},\"task\":{\"classes\":5}}", 5, "10 per class", true, "dddddddddddd", "succeeded", flat),
                new("{\"training\":{\"seed\":0},\"task\":{\"classes\":10}}", 10, "75 steps", false, "eeeeeeeeeeee", "succeeded", Jumping),
                new("{\"training\":{\"seed\":0},\"task\":{\"classes\":10}}", 10, "75 steps", true, "ffffffffffff", "running", flat),
            ],
        };
        var markdown = PaperReport.Markdown(data, new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));

        markdown.Should().Contain("## Persistent memory: 5 classes, 10 per class, seed 0").And.Contain("## Persistent memory: 10 classes, 75 steps, seed 0");
        markdown.Should().Contain("| memory | run | status | 10k | 20k | 30k | 40k | 50k | 60k |");
        markdown.Should().Contain("| wiped | run: cccccccccccc | succeeded | 25.0 | 28.0 | 30.0 | 30.0 | 80.0 | 90.0 |");
        markdown.Should().Contain("| persistent | run: dddddddddddd | succeeded | 22.0 | 24.0 | 25.0 | 26.0 | 27.0 | 28.0 |");
        markdown.Should().Contain("The paper: at 5 classes (10 per class), persistent memory learns much more slowly, without the sudden jump. Verdict: holds: ");
        markdown.Should().Contain("The paper: at 10 classes (75 steps), persistent memory is barely hurt. Verdict: not judged yet: a run of the pair has not succeeded.");
        Regex.Matches(markdown, @"!\[persistent-memory-").Count.Should().Be(2, "a chart per pair");
    }

    private static Dictionary<int, double> ByClasses(params (int Classes, double Accuracy)[] points) => points.ToDictionary(p => p.Classes, p => p.Accuracy);

    [Fact]
    public void Decays_gradually_holds_for_a_steady_decline_and_not_for_a_cliff_a_rise_or_no_decline()
    {
        var steady = PaperReport.DecaysGradually(ByClasses((5, 0.90), (10, 0.85), (25, 0.75), (50, 0.65), (100, 0.54)));
        steady.Holds.Should().BeTrue(steady.Figures);
        steady.Figures.Should().Be("90.0% at 5 classes to 54.0% at 100; the largest step down, 50 to 100 classes, 11.0 points (31% of the decline)");
        var cliff = PaperReport.DecaysGradually(ByClasses((5, 0.90), (10, 0.88), (25, 0.86), (50, 0.20), (100, 0.18)));
        cliff.Holds.Should().BeFalse();
        cliff.Figures.Should().EndWith("the largest step down, 25 to 50 classes, 66.0 points (92% of the decline)");
        var rise = PaperReport.DecaysGradually(ByClasses((5, 0.60), (10, 0.70), (25, 0.55), (50, 0.50), (100, 0.45)));
        rise.Holds.Should().BeFalse();
        rise.Figures.Should().Contain("rises 5 to 10 by 10.0 points");
        PaperReport.DecaysGradually(ByClasses((5, 0.5), (10, 0.5), (100, 0.5))).Holds.Should().BeFalse("no decline is no decay");
        FluentActions.Invoking(() => PaperReport.DecaysGradually(ByClasses((5, 0.5)))).Should().Throw<ArgumentException>().WithMessage("a decay needs*");
    }

    [Fact]
    public void Each_curriculum_run_has_its_accuracy_against_classes_the_papers_claim_and_a_verdict_once_it_succeeded()
    {
        static IReadOnlyDictionary<int, IReadOnlyDictionary<int, double>> Table(params (int Classes, double Second, double Tenth)[] rows) =>
            rows.ToDictionary(r => r.Classes, r => (IReadOnlyDictionary<int, double>)new Dictionary<int, double> { [1] = 0.0, [2] = r.Second, [10] = r.Tenth });
        var learned = Table((5, 0.90, 0.97), (15, 0.80, 0.93), (25, 0.72, 0.90), (50, 0.60, 0.82), (100, 0.45, 0.70));
        var second = Table((5, 0.86, 0.95), (15, 0.76, 0.91), (25, 0.68, 0.88), (50, 0.56, 0.80), (100, 0.41, 0.66));
        const string schedule = "15 to 25 classes, +1 every 10,000 episodes";
        // The mean over two seeds, as the query gives it (mannlab.t975(1) = 12.706 times the standard error): at 25 classes, the 2nd sight 70 ± 25.4.
        CurriculumMean Mean(int classes, int sight) =>
            new(classes, sight, 2, (learned[classes][sight] + second[classes][sight]) / 2, 12.706 * Math.Abs(learned[classes][sight] - second[classes][sight]) / 2);
        var data = Data() with
        {
            Curriculum =
            [
                new("curriculum", "mann", "per-head rule", schedule, 25,
                    [new("gggggggggggg", 0, "succeeded", learned), new("jjjjjjjjjjjj", 1, "succeeded", second)],
                    [.. learned.Keys.SelectMany(c => learned[c].Keys.Select(k => Mean(c, k)))]),
                new("curriculum", "mann", "", schedule, 25, [new("hhhhhhhhhhhh", 0, "running", new Dictionary<int, IReadOnlyDictionary<int, double>>())], []),
                new("curriculum", "lstm", "", schedule, 25, [new("iiiiiiiiiiii", 0, "succeeded", Table((5, 0.05, 0.06), (25, 0.02, 0.03), (100, 0.01, 0.01)))],
                    [new(5, 2, 1, 0.05, null), new(25, 2, 1, 0.02, null), new(100, 2, 1, 0.01, null)]),
            ],
        };
        var markdown = PaperReport.Markdown(data, new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));

        markdown.Should().Contain("## Curriculum and up to 100 classes (section 4.1)");
        markdown.Should().Contain("## Curriculum: curriculum, mann (per-head rule)")
            .And.Contain("15 to 25 classes, +1 every 10,000 episodes. run gggggggggggg (seed 0), succeeded; run jjjjjjjjjjjj (seed 1), succeeded.");
        markdown.Should().Contain("| classes | 1st | 2nd | 10th |").And.Contain("| 25 (trained for) | 0.0 | 72.0 | 90.0 |").And.Contain("| 100 | 0.0 | 45.0 | 70.0 |");
        markdown.Should().Contain("Verdict: holds: 2nd sight yes, 90.0% at 5 classes to 45.0% at 100; the largest step down, 50 to 100 classes, 15.0 points (33% of the decline); " +
                                  "10th sight yes, 97.0% at 5 classes to 70.0% at 100;");
        markdown.Should().Contain("Mean over the 2 seeds that succeeded, ± the 95% t-interval:").And.Contain("| 25 (trained for) | 0.0 ± 0.0 | 70.0 ± 25.4 | 89.0 ± 12.7 |")
            .And.Contain("Verdict on the mean: holds: 2nd sight yes, 88.0% at 5 classes to 43.0% at 100;");
        markdown.Should().Contain("run hhhhhhhhhhhh (seed 0), running");
        markdown.Should().Contain("Verdict: not judged: at its 25 classes the 2nd sight did not end 10 points above chance, so the model did not learn.");
        markdown.Should().NotContain("Verdict on the mean: not judged", "one seed has no mean to judge");
        Regex.Matches(markdown, @"!\[curriculum-").Count.Should().Be(2, "a chart per setting evaluated: none for the one still training");

        // A sight that two class counts only had is not judged: the 10th, in short episodes of many classes.
        var shortEpisodes = new Dictionary<int, IReadOnlyDictionary<int, double>>
        {
            [5] = new Dictionary<int, double> { [1] = 0, [2] = 0.9, [10] = 0.97 }, [15] = new Dictionary<int, double> { [1] = 0, [2] = 0.8, [10] = 0.9 },
            [25] = new Dictionary<int, double> { [1] = 0, [2] = 0.7 }, [50] = new Dictionary<int, double> { [1] = 0, [2] = 0.6 },
        };
        var one = PaperReport.Markdown(data with { Curriculum = [data.Curriculum[0] with { Runs = [data.Curriculum[0].Runs[0] with { ByClasses = shortEpisodes }], Means = [] }] }, new DateTimeOffset(2026, 12, 3, 9, 0, 0, TimeSpan.Zero));
        one.Should().Contain("Verdict: holds: 2nd sight yes, 90.0% at 5 classes to 60.0% at 50; the largest step down, 15 to 25 classes, 10.0 points (33% of the decline).");
    }

    private static RegressionRun Regression(int dimensions, double[] model, double[] gp, params RegressionBands[] bands) =>
        new("cccccccccccc", "regression", "mann", RunStatus.Succeeded, dimensions, 0.5, $"GP regression, {dimensions}-D", model, gp, bands);

    [Fact]
    public void A_regressions_nll_claim_is_judged_by_its_gain_against_the_gps()
    {
        // 1st step 1.4, last 10 at 0.4 (a gain of 1.0); the GP gains 1.6: 62% of it, and 1.0 >= 0.2 nats.
        double[] model = [1.4, .. Enumerable.Repeat(0.8, 10), .. Enumerable.Repeat(0.4, 10)], gp = [1.4, .. Enumerable.Repeat(0.2, 10), .. Enumerable.Repeat(-0.2, 10)];
        var (improves, tracks, figures) = PaperReport.TracksTheGp(model, gp);
        (improves, tracks).Should().Be((true, true));
        figures.Should().Contain("the model gains 1.000 nats, 63% of the GP's 1.600");
        PaperReport.TracksTheGp([1.4, .. Enumerable.Repeat(1.1, 20)], gp).Tracks.Should().BeFalse("a gain of 0.3 is under half the GP's");
        PaperReport.TracksTheGp([1.4, .. Enumerable.Repeat(1.3, 20)], gp).Improves.Should().BeFalse("0.1 nats is no improvement");
        var act = () => PaperReport.TracksTheGp([1, 2], [1, 2]);
        act.Should().Throw<ArgumentException>();

        var md = PaperReport.Markdown(Data() with { Regression = [Regression(2, model, gp)] }, new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero));
        md.Should().Contain("## Gaussian-process regression").And.Contain("## Regression: regression, mann, 2-D")
            .And.Contain("Verdict: holds: improves as points are stored: yes; tracks the GP's: yes");
    }

    [Fact]
    public void A_1d_regressions_bands_are_judged_near_and_far_from_the_points_seen()
    {
        // Two points at -1 and -0.9; the function sin(x); a model whose mean is the function and whose variance grows with the distance.
        double[] grid = [.. Enumerable.Range(0, 41).Select(i => -1 + i * 0.05)];
        double[] function = [.. grid.Select(Math.Sin)];
        double[] variance = [.. grid.Select(x => 0.01 + Math.Min(Math.Abs(x + 0.95), 1))];
        var good = new RegressionBands(100, 2, grid, function, function, variance, function, variance, [-1, -0.9], [Math.Sin(-1), Math.Sin(-0.9)]);
        var (follows, grows, figures) = PaperReport.FollowsTheFunction(good, 0.5);
        (follows, grows).Should().Be((true, (bool?)true));
        figures.Should().Contain("after 2 points").And.Contain("the mean's RMS error is 0.000");
        var flat = good with { ModelMean = [.. grid.Select(_ => 0.0)], ModelVariance = [.. grid.Select(_ => 0.3)] };
        PaperReport.FollowsTheFunction(flat, 0.5).Should().Match<(bool Follows, bool? Grows, string Figures)>(v => !v.Follows && v.Grows == false);

        var html = System.Net.WebUtility.HtmlDecode(PaperReport.Html(Data() with { Regression = [Regression(1, [1.4, .. Enumerable.Repeat(0.8, 10), .. Enumerable.Repeat(0.4, 10)],
            [1.4, .. Enumerable.Repeat(0.2, 10), .. Enumerable.Repeat(-0.2, 10)], good)] }, new DateTimeOffset(2026, 12, 4, 9, 0, 0, TimeSpan.Zero), site: false));
        html.Should().Contain("The paper: its predictions follow the function, their variance growing away from the points seen. Verdict: holds");
        Regex.Matches(html, "<svg").Count.Should().Be(4, "the two tables' charts, the NLL against points seen, and the bands");
    }
}
