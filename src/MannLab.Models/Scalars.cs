using System.Collections.Concurrent;
using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>
/// The numbers our training loops hand to torch ops, as native Scalars created once and kept for
/// the life of the process. TorchSharp 0.107 turns a bare number into a Scalar that only its
/// finalizer frees, and passes it to libtorch by raw handle without keeping it alive, so a
/// collection on any thread during the call can free it under libtorch (seen as "Unknown scalar
/// type" crashes). Leaving them to the finalizer also makes memory depend on when the GC runs.
/// A Scalar from here is always rooted: no collection can free it, and no loop leaves garbage for
/// the finalizer. Numbers that change every step (Adam's bias correction) are disposed by their
/// caller instead.
/// </summary>
public static class Scalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    public static Scalar Of(double value) => Cache.GetOrAdd(value, v => v.ToScalar());

    public static Scalar One => Of(1);

    /// <summary>a + b. TorchSharp's + and one-argument add pass a Scalar 1 they make implicitly.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a + b, for a number b (see <see cref="Plus(Tensor, Tensor)"/>).</summary>
    public static Tensor Plus(this Tensor a, double b) => a.add(Of(b), One);

    /// <summary>In place: a += b, for a number b (see <see cref="Plus(Tensor, Tensor)"/>).</summary>
    public static Tensor PlusInPlace(this Tensor a, double b) => a.add_(Of(b), One);

    /// <summary>1 - a (exactly -a + 1): TorchSharp's number-minus-tensor adds an implicit Scalar.</summary>
    public static Tensor OneMinus(Tensor a) => a.neg().add_(One, One);

    /// <summary>
    /// softplus(x) = log(1 + e^x) (PyTorch's, beta 1, threshold 20). TorchSharp's public softplus
    /// makes its two Scalars implicitly and offers no overload that takes them, so the private
    /// overload it calls is bound once and handed rooted ones.
    /// </summary>
    public static Tensor Softplus(Tensor x) => SoftplusWithScalars(x, One, Of(20));

    private static readonly Func<Tensor, Scalar, Scalar, Tensor> SoftplusWithScalars =
        typeof(Tensor).GetMethod("softplus1", BindingFlags.Instance | BindingFlags.NonPublic, [typeof(Scalar), typeof(Scalar)])
            ?.CreateDelegate<Func<Tensor, Scalar, Scalar, Tensor>>()
        ?? throw new MissingMethodException("TorchSharp's Tensor.softplus1(Scalar, Scalar) is gone: this TorchSharp version needs another way to call softplus");
}
