using System.Globalization;
using System.Text;
using MannLab.Drawing;
using MannLab.Runs;
using MannLab.Spec;
using MannLab.Storage;
using static MannLab.Web.Html;

namespace MannLab.Web;

/// <summary>
/// The reproduction report: every table of the paper, each row beside MannLab's runs of it (mean
/// and 95% interval over seeds, runs, episodes, wall time, the difference, a status, and every
/// setting that is not the paper's), with a chart per table. One document, built once from the
/// database and written as HTML (the site's /report, or a file that stands alone) or Markdown.
/// </summary>
public static partial class PaperReport
{
    public const string Title = "Reproducing Santoro et al. (2016), One-shot Learning with Memory-Augmented Neural Networks";

    /// <summary>The paper's rows in the order its tables list them.</summary>
    private static readonly string[] RowOrder =
    [
        "human", "knn_raw_pixels", "knn_deep_features", "feedforward", "lstm", "mann",
        "mann_feedforward_controller", "mann_lstm_controller", "mann_ntm_access_lstm_controller",
    ];

    /// <summary>The sights a status is judged at: from the 2nd on, since the 1st sight of a class measures a guess, not memory.</summary>
    private const int FirstJudgedSight = 2;

    private abstract record Block;
    private sealed record Heading(string Text) : Block;
    private sealed record Paragraph(string Text) : Block;
    /// <summary>A table; a cell may name runs, which the page links to.</summary>
    private sealed record Grid(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<Cell>> Rows) : Block;
    private sealed record Figure(string Name, ScottPlot.Plot Plot) : Block;
    private sealed record Cell(string Text, IReadOnlyList<string>? Runs = null)
    {
        /// <summary>The cell where nothing links: its text, then the runs it names.</summary>
        public string Plain => Runs is { } ids ? $"{Text}: {string.Join(" ", ids)}" : Text;
    }

    /// <summary>A row of a table: who, their accuracy at each sight, then the runs' columns (blank for the paper's rows).</summary>
    private static IReadOnlyList<Cell> Row(string model, string who, IEnumerable<string> sights, Cell? runs = null, string episodes = "",
        string minutes = "", string status = "", string differs = "") =>
        [new(model), new(who), .. sights.Select(s => new Cell(s)), runs ?? new(""), new(episodes), new(minutes), new(status), new(differs)];

    /// <summary>A chart's series from accuracy by sight.</summary>
    private static Series BySight(string name, IReadOnlyDictionary<int, double> accuracy) =>
        new(name, [.. accuracy.Keys.Order().Select(k => (double)k)], [.. accuracy.OrderBy(a => a.Key).Select(a => a.Value)]);

    /// <summary>A row's status against the paper: reproduced, within the interval, short by how much, or not yet run.</summary>
    public static string Status(IReadOnlyDictionary<int, double> paper, IReadOnlyDictionary<int, (double Mean, double? Ci95)>? ours)
    {
        if (ours is null || ours.Count == 0) return "not yet run";
        var judged = paper.Keys.Where(k => k >= FirstJudgedSight && ours.ContainsKey(k)).Order().ToList();
        if (judged.Count == 0) return "no sight in common with the paper";
        var gaps = judged.Select(k => (Sight: k, Gap: paper[k] - ours[k].Mean, ours[k].Ci95)).ToList();
        if (gaps.All(g => g.Gap <= 0)) return "reproduced";
        if (gaps.All(g => g.Gap <= 0 || g.Ci95 is { } ci && g.Gap <= ci)) return "within the interval";
        var worst = gaps.MaxBy(g => g.Gap);
        return $"short by {100 * worst.Gap:F1} points at the {RunFormat.Ordinal(worst.Sight)} sight";
    }

    private static IReadOnlyList<Block> Build(PaperReportData data, DateTimeOffset generated)
    {
        var blocks = new List<Block>
        {
            new Paragraph($"Generated {generated.UtcDateTime:yyyy-MM-dd HH:mm} UTC from MannLab's database; it changes as runs finish. " +
                          "Each number is held-out accuracy (%) at the k-th sight of a class, on the classes held out from training. " +
                          "MannLab's are the final evaluation of its succeeded runs: the mean over the runs that differ in their seed alone, " +
                          "± the 95% interval (Student's t; none for a single run), and in brackets the difference from the paper."),
            new Paragraph($"Status is judged from the {RunFormat.Ordinal(FirstJudgedSight)} sight on (the 1st measures a guess, not memory): " +
                          "reproduced where the mean is at or above the paper's at every such sight; within the interval where it is below " +
                          "somewhere but never by more than its interval; otherwise short by the largest gap."),
            new Paragraph("Table 2 comes from one transcription of the paper (its 5-way MANN 5th-sight value is confirmed by a second source), " +
                          "so its numbers are shown as transcribed. \"Differs from the paper\" lists every trained setting of a row's runs that is not " +
                          "the paper's own for that row; the usage decay of Table 2's MANNs is the transcription's 0.99."),
        };
        foreach (var setting in data.Paper.GroupBy(p => (p.Table, p.Classes)).OrderBy(g => g.Key.Table).ThenBy(g => g.Key.Classes))
        {
            var (table, classes) = setting.Key;
            var transcribed = setting.Any(p => p.Provenance != "published");
            blocks.Add(new Heading(table == "table1"
                ? $"Table 1: Omniglot, {classes} classes, one-hot labels"
                : $"Table 2: Omniglot, {classes} classes, string labels{(transcribed ? " (as transcribed)" : "")}"));
            var sights = setting.SelectMany(p => p.Accuracy.Keys).Distinct().Order().ToList();
            var rows = new List<IReadOnlyList<Cell>>();
            var series = new List<Series>();
            foreach (var paper in setting.OrderBy(p => Array.IndexOf(RowOrder, p.Model)))
            {
                rows.Add(Row(paper.Model, paper.Provenance == "published" ? "paper" : $"paper ({paper.Provenance})",
                    sights.Select(k => Number(paper.Accuracy.GetValueOrDefault(k, double.NaN)))));
                series.Add(BySight($"paper: {paper.Model}", paper.Accuracy));
                if (paper.BestReimplementation.Count > 0)
                    rows.Add(Row(paper.Model, $"best public reimplementation: {string.Join(", ", paper.BestReimplementation.Values.Select(b => b.Source).Distinct())}",
                        sights.Select(k => paper.BestReimplementation.TryGetValue(k, out var b) ? Number(b.Accuracy) : "")));
                var ours = data.Ours.Where(o => o.Table == table && o.Classes == classes && o.PaperModel == paper.Model).ToList();
                if (ours.Count == 0)
                    rows.Add(Row(paper.Model, "MannLab", sights.Select(_ => ""), new("0"),
                        status: paper.Model == "human" ? "people, not a model" : Status(paper.Accuracy, null)));
                foreach (var run in ours)
                {
                    var who = $"MannLab: {run.Experiment}" + (run.Variant == "" ? "" : $" ({run.Variant})");
                    rows.Add(Row(paper.Model, who,
                        sights.Select(k => run.Accuracy.TryGetValue(k, out var a) ? Ours(a, paper.Accuracy.GetValueOrDefault(k, double.NaN)) : ""),
                        new(run.RunIds.Count.ToString(CultureInfo.InvariantCulture), run.RunIds),
                        run.Episodes.ToString("N0", CultureInfo.InvariantCulture),
                        run.Minutes is { } m ? m.ToString("F1", CultureInfo.InvariantCulture) : "not recorded",
                        Status(paper.Accuracy, run.Accuracy), Differences(run)));
                    series.Add(BySight(who, run.Accuracy.ToDictionary(a => a.Key, a => a.Value.Mean)));
                }
            }
            blocks.Add(new Grid(["model", "who", .. sights.Select(RunFormat.Ordinal), "runs", "episodes", "minutes", "status", "differs from the paper"], rows));
            blocks.Add(new Figure($"{table}-{classes}", Charts.Lines($"{(table == "table1" ? "Table 1" : "Table 2")}, {classes} classes: held-out accuracy by sight",
                "sight", "accuracy", series, (0, 1))));
        }
        blocks.AddRange(PersistentMemory(data.PersistentMemory));
        blocks.AddRange(Curriculum(data.Curriculum));
        blocks.AddRange(Regression(data.Regression));
        return blocks;
    }

    private static string Number(double accuracy) => double.IsFinite(accuracy) ? (100 * accuracy).ToString("F1", CultureInfo.InvariantCulture) : "";

    /// <summary>"82.1 ± 1.2 (-0.7)": the mean, its interval and the difference from the paper.</summary>
    private static string Ours((double Mean, double? Ci95) a, double paper) =>
        Number(a.Mean) + (a.Ci95 is { } ci && double.IsFinite(ci) ? $" ± {Number(ci)}" : "") +
        (double.IsFinite(paper) ? $" ({(a.Mean >= paper ? "+" : "")}{Number(a.Mean - paper)})" : "");

    /// <summary>Each trained setting of the row's runs that is not the paper's for that row.</summary>
    private static string Differences(ReproducedRow run)
    {
        var spec = Experiments.specOfJson(run.TrainedSpec);
        if (spec.IsError || PaperTables.reference(run.Table, run.Classes, run.PaperModel) is not { } paper) return "";
        return string.Join("; ", PaperTables.differences(spec.ResultValue, paper.Value).Select(d => $"{d.Item1}: {d.Item2} (paper: {d.Item3})"));
    }

    /// <summary>The report as HTML: a page of the site (runs linked to their pages), or a document that stands alone.</summary>
    public static string Html(PaperReportData data, DateTimeOffset generated, bool site)
    {
        var body = new StringBuilder();
        foreach (var block in Build(data, generated))
            body.Append(block switch
            {
                Heading h => $"<h2>{E(h.Text)}</h2>",
                Paragraph p => $"<p>{E(p.Text)}</p>",
                Grid g => Table(g.Header, g.Rows.Select(r => r.Select(c => c.Runs is { } runs && site
                    ? E(c.Text) + ": " + string.Join(" ", runs.Select(id => $"<a href=\"/runs/{E(id)}\">{E(id)}</a>"))
                    : E(c.Plain)))),
                Figure f => Chart(Charts.Svg(f.Plot, 760, 380), f.Name),
                _ => throw new InvalidOperationException(block.ToString()),
            });
        return Page(Title, body.ToString(), site: site);
    }

    /// <summary>The report as Markdown, its charts embedded as PNG data.</summary>
    public static string Markdown(PaperReportData data, DateTimeOffset generated)
    {
        static string Escape(string text) => text.Replace("|", "\\|");
        var md = new StringBuilder($"# {Title}\n\n");
        foreach (var block in Build(data, generated))
            md.Append(block switch
            {
                Heading h => $"## {h.Text}\n\n",
                Paragraph p => $"{p.Text}\n\n",
                Grid g => $"| {string.Join(" | ", g.Header.Select(Escape))} |\n|{string.Concat(g.Header.Select(_ => "---|"))}\n" +
                          string.Concat(g.Rows.Select(r => $"| {string.Join(" | ", r.Select(c => Escape(c.Plain)))} |\n")) + "\n",
                Figure f => $"![{f.Name}](data:image/png;base64,{Convert.ToBase64String(Charts.Png(f.Plot, 760, 380))})\n\n",
                _ => throw new InvalidOperationException(block.ToString()),
            });
        return md.ToString();
    }
}
