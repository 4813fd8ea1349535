using MannLab.Data;

namespace MannLab.Models;

/// <summary>
/// The paper's Table 2 baseline: k-nearest-neighbour (k = 1) on raw pixels. Within an episode,
/// each image is labelled with the label of its nearest earlier image (Euclidean distance); the
/// labels of all earlier steps are known by then, since each arrives with the next step's input.
/// The first step has nothing to compare with and counts as wrong. No training.
/// </summary>
public static class NearestNeighbourBaseline
{
    /// <returns>[B * T]: whether each step's guess is right.</returns>
    public static bool[] Correct(EpisodeBatch batch)
    {
        int steps = batch.Steps, pixels = batch.ImagePixels;
        var correct = new bool[batch.BatchSize * steps];
        for (var b = 0; b < batch.BatchSize; b++)
            for (var t = 1; t < steps; t++)
            {
                var query = batch.Images.AsSpan((b * steps + t) * pixels, pixels);
                int best = -1;
                var bestDistance = double.PositiveInfinity;
                for (var s = 0; s < t; s++)
                {
                    var other = batch.Images.AsSpan((b * steps + s) * pixels, pixels);
                    double distance = 0;
                    for (var p = 0; p < pixels; p++) distance += (query[p] - other[p]) * (query[p] - other[p]);
                    if (distance < bestDistance) (best, bestDistance) = (s, distance);
                }
                correct[b * steps + t] = batch.Labels[b * steps + best] == batch.Labels[b * steps + t];
            }
        return correct;
    }
}
