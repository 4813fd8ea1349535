using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Fused;

/// <summary>
/// The whole MANN recurrence (<see cref="LruaSequence{T}"/>) as one autograd node: from the
/// input projection and the recurrent and head weights to every step's [h_t, r_t]. Autograd sees
/// one node per batch instead of hundreds per step; the input projection before it and the
/// output layer after it stay ordinary modules. CPU only, float32 or float64.
/// </summary>
public sealed class LruaRecurrence : autograd.SingleTensorFunction<LruaRecurrence>
{
    public override string Name => nameof(LruaRecurrence);

    /// <param name="projection">[B, T, G]: W_x [x_t, y_{t-1}] + b for every step.</param>
    /// <param name="recurrent">[G, K]: the controller's recurrent weight.</param>
    /// <param name="headWeight">[O, H] and <paramref name="headBias"/> [O]: the memory's head.</param>
    /// <returns>[B, T, H + R W]: [h_t, r_t] for every step.</returns>
    public static Tensor Apply(LruaShape shape, Tensor projection, Tensor recurrent, Tensor headWeight, Tensor headBias) =>
        apply(projection, recurrent, headWeight, headBias, shape);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (p, wr, wk, bk, shape) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (LruaShape)vars[4]);
        if (p.device_type != DeviceType.CPU) throw new InvalidOperationException("the fused MANN recurrence runs on the CPU only");
        var y = empty([shape.Batch, shape.Steps, shape.Outputs], p.dtype);
        object saved = p.dtype switch
        {
            ScalarType.Float32 => Run<float>.Forward(shape, p, wr, wk, bk, y),
            ScalarType.Float64 => Run<double>.Forward(shape, p, wr, wk, bk, y),
            _ => throw new NotSupportedException($"the fused MANN recurrence has no {p.dtype} kernel"),
        };
        ctx.save_data("saved", saved);
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient) => ctx.get_data("saved") switch
    {
        Run<float>.Saved saved => Run<float>.Backward(saved, gradient),
        Run<double>.Saved saved => Run<double>.Backward(saved, gradient),
        _ => throw new InvalidOperationException("the fused MANN recurrence lost what its forward saved"),
    };

    private static unsafe class Run<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>What a forward keeps for its backward: the tensors it read and wrote, and which workspace generation holds the rest.</summary>
        public sealed record Saved(LruaWorkspace<T> Workspace, long Generation, Tensor Projection, Tensor Recurrent, Tensor HeadWeight, Tensor HeadBias,
            Tensor Output);

        /// <summary>Per thread, the workspaces of the shapes seen last (training's batch, and evaluation's last, smaller one).</summary>
        [ThreadStatic] private static List<LruaWorkspace<T>>? workspaces;
        private const int KeptShapes = 3;

        private static LruaWorkspace<T> For(LruaShape shape)
        {
            var kept = workspaces ??= [];
            var found = kept.FindIndex(w => w.Shape == shape);
            var workspace = found >= 0 ? kept[found] : new LruaWorkspace<T>(shape);
            if (found >= 0) kept.RemoveAt(found);
            kept.Insert(0, workspace);
            if (kept.Count > KeptShapes)
            {
                kept[^1].Dispose();
                kept.RemoveAt(kept.Count - 1);
            }
            return workspace;
        }

        public static Saved Forward(LruaShape shape, Tensor p, Tensor wr, Tensor wk, Tensor bk, Tensor y)
        {
            var ws = For(shape);
            Tensor pc = p.contiguous(), wrc = wr.contiguous(), wkc = wk.contiguous(), bkc = bk.contiguous();
            LruaSequence<T>.Forward(ws, Blas.Data<T>(pc), Blas.Data<T>(wrc), Blas.Data<T>(wkc), Blas.Data<T>(bkc), Blas.Data<T>(y));
            return new Saved(ws, ws.Generation, pc, wrc, wkc, bkc, y);
        }

        public static List<Tensor> Backward(Saved saved, Tensor gradient)
        {
            var (ws, s, output) = (saved.Workspace, saved.Workspace.Shape, saved.Output);
            if (ws.Disposed || ws.Generation != saved.Generation)
            {
                // Another forward of this shape ran since (an evaluation between a forward and its
                // backward): what this backward needs is recomputed from the same inputs. Training,
                // which runs each batch's backward right after its forward, never gets here.
                ws = For(s);
                output = empty_like(saved.Output);
                LruaSequence<T>.Forward(ws, Blas.Data<T>(saved.Projection), Blas.Data<T>(saved.Recurrent), Blas.Data<T>(saved.HeadWeight),
                    Blas.Data<T>(saved.HeadBias), Blas.Data<T>(output));
            }
            var gy = gradient.contiguous();
            var dp = empty_like(saved.Projection);
            var dwr = empty_like(saved.Recurrent);
            var dwk = empty_like(saved.HeadWeight);
            var dbk = empty(s.HeadOutputs, saved.Projection.dtype);
            LruaSequence<T>.Backward(ws, Blas.Data<T>(gy), Blas.Data<T>(saved.Recurrent), Blas.Data<T>(saved.HeadWeight), Blas.Data<T>(output),
                Blas.Data<T>(dp), Blas.Data<T>(dwr), Blas.Data<T>(dwk), Blas.Data<T>(dbk));
            return [dp, dwr, dwk, dbk, null!];
        }
    }
}
