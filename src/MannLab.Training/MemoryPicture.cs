using MannLab.Data;
using MannLab.Drawing;
using MannLab.Models;
using Schema = MannLab.Spec.Schema;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// The memory picture: a MANN's read, write and usage weights, step by step, on one held-out
/// episode, drawn from the trace of the model at hand (training's own, at every checkpoint, or
/// one loaded by `inspect`). It changes nothing the training depends on: no gradients, no
/// random draws, and the model goes back to the mode it was in.
/// </summary>
public static class MemoryPicture
{
    public static byte[] Draw(MannModel model, EpisodeSampler heldOut, long episode, Device device, string title)
    {
        var batch = heldOut.Batch(episode, 1);
        using var scope = NewDisposeScope();
        return Draw(model, EpisodeTensors.From(batch, device).Input, batch.Instances, title);
    }

    /// <param name="input">One episode's input, [1, T, inputs].</param>
    /// <param name="instances">Per step, the sight of its class, to mark first sights (none marked for a regression).</param>
    public static byte[] Draw(MannModel model, Tensor input, int[] instances, string title)
    {
        var trace = new MemoryTrace();
        var wasTraining = model.training;
        model.eval();
        try
        {
            using (no_grad())
            using (NewDisposeScope())
                model.Traced(input, trace);
        }
        finally
        {
            model.train(wasTraining);
        }
        return MemoryImage.Png(trace.Steps, instances, title);
    }

    public static string Title(Spec.Spec spec, string runId, long trained, long episode) =>
        $"{spec.Name} (run {runId}) after {trained} episodes: held-out episode {episode}, {Schema.describeTask(spec.Task)}";
}
