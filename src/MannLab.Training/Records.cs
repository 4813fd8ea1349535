namespace MannLab.Training;

/// <summary>Live progress for displays; a regression's held-out result is <see cref="HeldOut"/>, as it has no accuracy.</summary>
public sealed record TrainingProgress(long Episode, long TotalEpisodes, double EpisodesPerSecond, double TrainLoss,
    IReadOnlyDictionary<int, double> TrainAccuracy, IReadOnlyDictionary<int, double>? EvalAccuracy, long Iteration, string? HeldOut = null);

/// <summary>The loss became NaN or infinite: training cannot go on.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
