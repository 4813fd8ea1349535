namespace MannLab.Runs;

/// <summary>One value of one metric at a point of training, counted in episodes trained.</summary>
public sealed record Metric(long Episode, string Name, double Value)
{
    /// <summary>With a curriculum, recorded with each training window: the classes of its episodes.</summary>
    public const string CurriculumClasses = "curriculum_classes";
}

/// <summary>
/// How often the k-th sight of a class was labelled right, on one split, in episodes of
/// <paramref name="Classes"/> classes, at one point of training.
/// </summary>
public sealed record InstanceAccuracy(long Episode, string Split, int Classes, int Instance, long Correct, long Total)
{
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;
}

/// <summary>
/// A 1-D regression's predictions on held-out episode 0 after its first <paramref name="Seen"/>
/// points: on a grid of inputs, the model's predictive mean and variance of y, the exact GP
/// posterior's, and the function itself; and the points seen.
/// </summary>
public sealed record RegressionBands(long Episode, int Seen, double[] Grid, double[] Function, double[] ModelMean, double[] ModelVariance,
    double[] GpMean, double[] GpVariance, double[] SeenX, double[] SeenY);

public enum Outcome { Completed, Interrupted, Failed }

/// <summary>
/// How a training session ended. Failed runs carry the reason. The final evaluation's rows are the
/// task's classes first, then each other class count evaluated (evaluation.classes).
/// </summary>
public sealed record TrainingResult(Outcome Outcome, long Episodes, string? Reason, IReadOnlyList<InstanceAccuracy> FinalEvaluation);

/// <summary>Where a run's results go: a folder for `mannlab train`, PostgreSQL for jobs.</summary>
public interface ITrainingSink
{
    /// <summary>
    /// Training (re)starts at <paramref name="episode"/>, in <paramref name="environment"/>: anything
    /// recorded after that point is void.
    /// </summary>
    void Started(long episode, RunEnvironment environment);
    void Record(IReadOnlyList<Metric> metrics, IReadOnlyList<InstanceAccuracy> instances);
    void Checkpointed(long episode, string file);
    /// <summary>A MANN's memory picture (a PNG) after the checkpoint at <paramref name="episode"/>.</summary>
    void MemoryDrawn(long episode, byte[] png);
    /// <summary>A 1-D regression's predictions after the checkpoint at their episode, one set per count of points seen.</summary>
    void BandsDrawn(IReadOnlyList<RegressionBands> bands);
    void Finished(TrainingResult result);
}
