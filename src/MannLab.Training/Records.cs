namespace MannLab.Training;

/// <summary>Live progress for displays.</summary>
public sealed record TrainingProgress(long Episode, long TotalEpisodes, double EpisodesPerSecond, double TrainLoss,
    IReadOnlyDictionary<int, double> TrainAccuracy, IReadOnlyDictionary<int, double>? EvalAccuracy, long Iteration);

/// <summary>The loss became NaN or infinite: training cannot go on.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
