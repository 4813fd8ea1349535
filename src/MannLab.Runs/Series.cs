namespace MannLab.Runs;

/// <summary>
/// A named line of values: a run's metric or its accuracy at one sight against episodes, its final
/// accuracy by sight, or a dashboard's column. What the read model gives and the charts draw (one
/// line of a chart, or one group of bars).
/// </summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);
