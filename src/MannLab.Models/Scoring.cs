using MannLab.Data;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MannLab.Models;

/// <summary>Loss and correctness for both label encodings.</summary>
public static class Scoring
{
    /// <summary>
    /// Mean cross-entropy over every step: one softmax over the classes for one-hot labels, or one
    /// softmax per character (five, over five symbols each) for string labels.
    /// </summary>
    public static Tensor Loss(Tensor logits, Tensor targets, LabelCodec codec)
    {
        var classes = codec.IsString ? LabelCodec.Symbols : codec.Classes;
        return F.cross_entropy(logits.reshape(-1, classes), targets.reshape(-1));
    }

    /// <summary>[B * T] booleans: the step's prediction is right (for strings: every character right).</summary>
    public static bool[] Correct(Tensor logits, Tensor targets, LabelCodec codec)
    {
        using var scope = NewDisposeScope();
        long batch = logits.shape[0], steps = logits.shape[1];
        var predicted = codec.IsString
            ? logits.reshape(batch, steps, LabelCodec.StringLength, LabelCodec.Symbols).argmax(3)
            : logits.argmax(2).unsqueeze(2);
        var right = predicted.eq(targets).all(2).reshape(-1).cpu();
        return right.data<bool>().ToArray();
    }
}
