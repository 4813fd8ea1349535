using System.Diagnostics;
using MannLab.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// One training iteration: the forward pass over a batch of episodes, the task's loss,
/// and, if that loss is finite, the backward pass, gradient clipping and the optimiser's step.
/// The one both training and <c>bench</c> run, so what bench times is what training does. Run it
/// inside the caller's DisposeScope: the logits it returns live there.
/// </summary>
/// <param name="loss">The task's loss of (input, output, targets).</param>
public sealed class TrainingStep(EpisodeModel model, optim.Optimizer optimizer, Parameter[] parameters, Func<Tensor, Tensor, Tensor, Tensor> loss,
    double? gradClip)
{
    /// <summary>What one iteration did: its loss, its logits, and how long each phase took (the phases after a non-finite loss are skipped).</summary>
    public readonly record struct Outcome(float Loss, Tensor Logits, TimeSpan Forward, TimeSpan Backward, TimeSpan OptimiserStep)
    {
        public bool Stepped => float.IsFinite(Loss);
    }

    /// <summary>One iteration, its optimiser step at learning rate <paramref name="lr"/> (the schedule's, <c>Spec.LearningRate.at</c>).</summary>
    public Outcome Run(Tensor input, Tensor targets, double lr)
    {
        var start = Stopwatch.GetTimestamp();
        model.train();
        var logits = model.forward(input);
        var objective = loss(input, logits, targets);
        var value = objective.item<float>(); // the forward pass is complete here
        var forwardDone = Stopwatch.GetTimestamp();
        if (!float.IsFinite(value)) return new Outcome(value, logits, Stopwatch.GetElapsedTime(start, forwardDone), TimeSpan.Zero, TimeSpan.Zero);
        optimizer.zero_grad();
        objective.backward();
        var backwardDone = Stopwatch.GetTimestamp();
        if (gradClip is { } clip) nn.utils.clip_grad_norm_(parameters, clip);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        optimizer.step();
        return new Outcome(value, logits, Stopwatch.GetElapsedTime(start, forwardDone), Stopwatch.GetElapsedTime(forwardDone, backwardDone),
            Stopwatch.GetElapsedTime(backwardDone));
    }
}
