using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>
/// The inputs a recurrence fed, step by step, into a weight shared by every step.
/// </summary>
public sealed class StepInputs(long width)
{
    public long Width { get; } = width;
    public List<Tensor> Inputs { get; } = [];
}

/// <summary>
/// The recurrent weight's gradient in one GEMM instead of one per step. Inside the recurrence the
/// weight is used detached, so autograd computes no per-step weight gradients (each a thin
/// [K x B] . [B x G] product accumulated into a [G x K] buffer: memory-bound, and most of the
/// backward pass's time). This function is the identity on the precomputed input projection
/// [B, T, G], through which every step's gate gradient flows; its backward therefore runs after
/// every step's, holds all of them, and returns the weight's gradient as
/// dGates^T [G x BT] . inputs [BT x K].
/// </summary>
public sealed class DeferredWeightGradient : autograd.SingleTensorFunction<DeferredWeightGradient>
{
    public override string Name => nameof(DeferredWeightGradient);

    /// <param name="projected">[B, T, G]: the part of every step's gates computed before the recurrence.</param>
    /// <param name="weight">[G, K]: the shared weight, used detached inside the recurrence.</param>
    /// <param name="inputs">Filled by the recurrence with its [B, K] input at each step.</param>
    public static Tensor Apply(Tensor projected, Tensor weight, StepInputs inputs) =>
        apply(projected, weight, inputs);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        ctx.save_data("inputs", vars[2]);
        return ((Tensor)vars[0]).alias();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
    {
        var log = (StepInputs)ctx.get_data("inputs");
        var inputs = stack(log.Inputs, 1).reshape(-1, log.Width);            // [B*T, K], steps in order
        var weightGradient = gradient.reshape(-1, gradient.shape[^1]).t().mm(inputs); // [G, K]
        return [gradient, weightGradient, null!];
    }
}
