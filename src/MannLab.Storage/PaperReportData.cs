using MannLab.Runs;

namespace MannLab.Storage;

/// <summary>A row of the paper's tables as published, with the best public reimplementation's number at each sight where one is known.</summary>
/// <param name="Model">The paper's model in its table's words (mannlab.paper_results.model).</param>
/// <param name="Provenance">How the numbers are known: published, or as transcribed (Table 2).</param>
public sealed record PaperRow(string Table, int Classes, string Model, string Provenance, IReadOnlyDictionary<int, double> Accuracy,
    IReadOnlyDictionary<int, (string Source, double Accuracy)> BestReimplementation);

/// <summary>
/// MannLab's runs of one of the paper's rows that differ in their seed alone: final held-out
/// accuracy by sight as the mean and 95% interval over them (mannlab.paper_comparison), and what they cost.
/// </summary>
/// <param name="Variant">How the memory differs from the paper's, "" for the paper's own (mannlab.paper_variant).</param>
/// <param name="TrainedSpec">The runs' canonical spec less its seed, as JSON.</param>
/// <param name="Minutes">Mean training wall time (training_minutes at the last evaluation); null for runs from before it was recorded.</param>
public sealed record ReproducedRow(string Table, int Classes, string PaperModel, string Experiment, string Variant, string TrainedSpec,
    IReadOnlyList<string> RunIds, IReadOnlyDictionary<int, (double Mean, double? Ci95)> Accuracy, double Episodes, double? Minutes);

/// <summary>
/// One run of a persistent-memory comparison (the paper's section 4.3): Omniglot MANN runs that
/// differ only in whether the memory is wiped between episodes.
/// </summary>
/// <param name="Setting">The runs' canonical spec less memory.persistent and what only names them, as JSON: the pair's key.</param>
/// <param name="Episode">The episode's shape in words: "10 per class" or "75 steps".</param>
/// <param name="SecondSight">Held-out accuracy at the 2nd sight, by episodes trained, at every evaluation so far.</param>
public sealed record MemoryComparisonRun(string Setting, int Classes, string Episode, bool Persistent, string RunId, string Status,
    IReadOnlyDictionary<long, double> SecondSight);

/// <summary>
/// The Omniglot runs trained with one curriculum setting (the paper's section 4.1) that differ in
/// their seed alone, each with its final held-out accuracy at every class count it was evaluated at
/// (task.classes and evaluation.classes), and the mean over those that succeeded.
/// </summary>
/// <param name="Schedule">The curriculum in words: "15 to 25 classes, +1 every 10,000 episodes".</param>
/// <param name="Variant">How the memory differs from the paper's, "" for the paper's own (mannlab.paper_variant, less "curriculum").</param>
/// <param name="Means">Final accuracy by class count and sight over the succeeded runs; empty until one has succeeded.</param>
public sealed record CurriculumSetting(string Experiment, string Model, string Variant, string Schedule, int TaskClasses,
    IReadOnlyList<CurriculumRun> Runs, IReadOnlyList<CurriculumMean> Means);

/// <param name="ByClasses">Accuracy by class count, then by sight; empty until the run has succeeded.</param>
public sealed record CurriculumRun(string RunId, int Seed, string Status, IReadOnlyDictionary<int, IReadOnlyDictionary<int, double>> ByClasses);

/// <summary>Final held-out accuracy at one class count and sight: the mean and 95% t-interval (null for one run) over a setting's succeeded runs.</summary>
public sealed record CurriculumMean(int Classes, int Instance, int Runs, double Mean, double? Ci95);

/// <summary>
/// One regression run (the paper's GP regression): its final held-out NLL by step, the model's and
/// the exact GP posterior's (step 1 is before any point), and, for 1-D, its latest bands.
/// </summary>
/// <param name="Task">The task in words (Schema.describeTask).</param>
public sealed record RegressionRun(string RunId, string Experiment, string Model, string Status, int Dimensions, double LengthScale, string Task,
    IReadOnlyList<double> ModelNll, IReadOnlyList<double> GpNll, IReadOnlyList<RegressionBands> Bands);

/// <summary>What a reproduction report is made of: the paper's rows, MannLab's finished runs of them, and the runs of its other experiments.</summary>
public sealed record PaperReportData(IReadOnlyList<PaperRow> Paper, IReadOnlyList<ReproducedRow> Ours, IReadOnlyList<MemoryComparisonRun> PersistentMemory,
    IReadOnlyList<CurriculumSetting> Curriculum, IReadOnlyList<RegressionRun> Regression);
