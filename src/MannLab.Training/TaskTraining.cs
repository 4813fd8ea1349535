using MannLab.Models;
using MannLab.Runs;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// A held-out evaluation: its metrics and rows, and for progress displays, per-instance accuracy
/// (a classification's) or a summary (a regression's).
/// </summary>
internal sealed record Evaluated(IReadOnlyList<Metric> Metrics, IReadOnlyList<InstanceAccuracy> Rows, IReadOnlyDictionary<int, double>? Accuracy,
    string? Summary = null);

/// <summary>
/// What a task kind brings to the training loop (Trainer, which owns the iterations, the optimiser,
/// checkpoints, resumption and the generic metrics): its data and model, the batches and their
/// loss, what a training window measures besides its loss, the held-out evaluation, and what
/// completes a run. One for classification, one for regression.
/// </summary>
internal abstract class TaskTraining : IDisposable
{
    public static TaskTraining For(Spec.Spec spec, ITrainingSink sink, Device device, Action<string>? log) =>
        spec.Task.Regression is { Value: var gp } ? new RegressionTraining(spec, gp, device) : new ClassificationTraining(spec, sink, device, log);

    /// <summary>The spec's model for this task, its weights drawn now (after the training seed is set).</summary>
    public abstract EpisodeModel CreateModel();

    /// <summary>What training minimises, of a batch's input, the model's output and the targets.</summary>
    public abstract Tensor Loss(EpisodeModel model, Tensor input, Tensor output, Tensor targets);

    /// <summary>The window that the batch starting at <paramref name="episode"/> belongs to: a curriculum's class count; one for every batch otherwise.</summary>
    public abstract int WindowAt(long episode);

    /// <summary>Starts the training batches at <paramref name="episode"/>.</summary>
    public abstract void StartAt(long episode);

    /// <summary>Moves to the next training batch, and returns its window (<see cref="WindowAt"/>).</summary>
    public abstract int Next();

    /// <summary>The current batch as tensors, in the caller's DisposeScope.</summary>
    public abstract (Tensor Input, Tensor Targets) Tensors();

    /// <summary>Adds the model's output on the current batch to the window's own measures.</summary>
    public abstract void Accumulate(Tensor output, Tensor targets);

    /// <summary>The window's own metrics (after train_loss) and rows, at <paramref name="episode"/>; the next window starts empty.</summary>
    public abstract (IReadOnlyList<Metric> Metrics, IReadOnlyList<InstanceAccuracy> Rows) CloseWindow(long episode, int window);

    /// <summary>The open window's accuracy by instance, for progress displays; empty for a regression.</summary>
    public abstract IReadOnlyDictionary<int, double> WindowAccuracy();

    /// <summary>The model on the held-out episodes, without gradients: the same episodes at every evaluation.</summary>
    public abstract Evaluated Evaluate(EpisodeModel model, long episode);

    /// <summary>
    /// Records what completes a run after its final evaluation (<paramref name="final"/>): baselines
    /// on the same episodes, evaluations at other class counts. Returns any further rows of the result.
    /// </summary>
    public abstract IReadOnlyList<InstanceAccuracy> Complete(EpisodeModel model, long episode, IReadOnlyList<InstanceAccuracy> final);

    /// <summary>Held-out episode 0's input ([1, T, inputs], in the caller's scope) and, per step, its sight of a class (for the memory picture).</summary>
    public abstract (Tensor Input, int[] Sights) HeldOutEpisode();

    /// <summary>At a checkpoint at <paramref name="episode"/>, a 1-D regression's predictions to draw (RegressionTraining); none for other tasks.</summary>
    public virtual IReadOnlyList<RegressionBands> Bands(EpisodeModel model, long episode) => [];

    public abstract void Dispose();
}
