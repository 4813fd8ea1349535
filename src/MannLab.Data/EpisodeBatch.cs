namespace MannLab.Data;

/// <summary>
/// A batch of episodes as flat row-major arrays, ready to become [B, T, ...] tensors.
/// The model's input at step t is [Images[b, t], PreviousLabels[b, t]], where PreviousLabels[b, t]
/// is the label vector of step t-1 and zero at t = 0.
/// </summary>
public sealed class EpisodeBatch(int batchSize, int steps, int classes, int imagePixels, int labelWidth, int targetWidth, long firstEpisode)
{
    public int BatchSize { get; } = batchSize;
    public int Steps { get; } = steps;
    /// <summary>Classes in each of the batch's episodes.</summary>
    public int Classes { get; } = classes;
    public int ImagePixels { get; } = imagePixels;
    /// <summary>Width of a label vector: N for one-hot, 25 for string labels.</summary>
    public int LabelWidth { get; } = labelWidth;
    /// <summary>Targets per step: 1 (the class's label) for one-hot, 5 (one symbol per character) for strings.</summary>
    public int TargetWidth { get; } = targetWidth;
    /// <summary>The episode index of the batch's first episode; episode b is FirstEpisode + b.</summary>
    public long FirstEpisode { get; } = firstEpisode;

    /// <summary>[B, T, ImagePixels], ink = 1.</summary>
    public float[] Images { get; } = new float[batchSize * steps * imagePixels];
    /// <summary>[B, T, LabelWidth]: the previous step's label vector.</summary>
    public float[] PreviousLabels { get; } = new float[batchSize * steps * labelWidth];
    /// <summary>[B, T, TargetWidth]: what the model must output at each step.</summary>
    public long[] Targets { get; } = new long[batchSize * steps * targetWidth];
    /// <summary>[B, T]: the label's identity (one-hot index, or string code), for baselines that compare labels.</summary>
    public int[] Labels { get; } = new int[batchSize * steps];
    /// <summary>[B, T]: 1 when the step's class is seen for the first time in the episode, 2 the second time, ...</summary>
    public int[] Instances { get; } = new int[batchSize * steps];
}
