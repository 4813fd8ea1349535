using MannLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>A batch of episodes as tensors: input [B, T, pixels + label width] = [x_t, y_{t-1}], targets [B, T, target width].</summary>
public sealed record EpisodeTensors(Tensor Input, Tensor Targets)
{
    public static EpisodeTensors From(EpisodeBatch batch, Device device)
    {
        int steps = batch.BatchSize * batch.Steps, pixels = batch.ImagePixels, labels = batch.LabelWidth, width = pixels + labels;
        var input = new float[steps * width];
        for (var s = 0; s < steps; s++)
        {
            Array.Copy(batch.Images, s * pixels, input, s * width, pixels);
            Array.Copy(batch.PreviousLabels, s * labels, input, s * width + pixels, labels);
        }
        return new EpisodeTensors(
            tensor(input, [batch.BatchSize, batch.Steps, width], device: device),
            tensor(batch.Targets, [batch.BatchSize, batch.Steps, batch.TargetWidth], device: device));
    }
}
