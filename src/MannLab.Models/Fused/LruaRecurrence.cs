using System.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Fused;

/// <summary>
/// The whole MANN recurrence (<see cref="LruaSequence{T}"/>) as one autograd node: from the
/// input projection and the recurrent and head weights to every step's [h_t, r_t]. Autograd sees
/// one node per batch instead of hundreds per step; the input projection before it and the
/// output layer after it stay ordinary modules. CPU only, float32 or float64.
/// <para>
/// The episodes of a batch do not interact until the weights' gradients are summed, so with more
/// than one thread the batch is split into shards, one per thread, each run through the whole
/// recurrence with a workspace of its own and MKL on that thread alone; the shards' weight
/// gradients are then added in shard order, so a result does not depend on which thread ran what.
/// Only the GEMMs gain from more threads otherwise: the recurrence's own loops are one thread's.
/// </para>
/// </summary>
public sealed class LruaRecurrence : autograd.SingleTensorFunction<LruaRecurrence>
{
    public override string Name => nameof(LruaRecurrence);

    /// <param name="projection">[B, T, G]: W_x [x_t, y_{t-1}] + b for every step.</param>
    /// <param name="recurrent">[G, K]: the controller's recurrent weight.</param>
    /// <param name="headWeight">[O, H] and <paramref name="headBias"/> [O]: the memory's head.</param>
    /// <param name="threads">How many shards the batch is split into, each on a thread (at most one per episode).</param>
    /// <returns>[B, T, H + R W]: [h_t, r_t] for every step.</returns>
    public static Tensor Apply(LruaShape shape, Tensor projection, Tensor recurrent, Tensor headWeight, Tensor headBias, int threads = 1) =>
        apply(projection, recurrent, headWeight, headBias, shape, Math.Clamp(threads, 1, shape.Batch));

    /// <summary>
    /// [h_t, r_t] for every step of <paramref name="input"/> [B, T, I] by the fused recurrence, where it
    /// applies: a controller (LSTM or feed-forward) with LRUA memory wiped every episode, on the CPU.
    /// Null elsewhere (NTM access, persistent memory, another device): the modules' path runs there.
    /// </summary>
    internal static Tensor? TryApply(Controller controller, ExternalMemory memory, Tensor input, int threads)
    {
        if (input.device_type != DeviceType.CPU || memory is not LruaMemory lrua
            || lrua.FusedShape(input.shape[0], input.shape[1], controller.HiddenUnits, controller is LstmController) is not { } shape)
            return null;
        var (headWeight, headBias) = lrua.HeadParameters;
        return Apply(shape, controller.Project(input), controller.RecurrentWeight, headWeight, headBias, threads);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var (p, wr, wk, bk, shape, shards) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (LruaShape)vars[4], (int)vars[5]);
        if (p.device_type != DeviceType.CPU) throw new InvalidOperationException("the fused MANN recurrence runs on the CPU only");
        var y = empty([shape.Batch, shape.Steps, shape.Outputs], p.dtype);
        object saved = p.dtype switch
        {
            ScalarType.Float32 => Run<float>.Forward(shape, shards, p, wr, wk, bk, y),
            ScalarType.Float64 => Run<double>.Forward(shape, shards, p, wr, wk, bk, y),
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
        /// <summary>What a forward keeps for its backward: the tensors it read and wrote, and each shard's workspace and the generation that holds the rest.</summary>
        public sealed record Saved(LruaShape Shape, LruaWorkspace<T>[] Workspaces, long[] Generations, Tensor Projection, Tensor Recurrent,
            Tensor HeadWeight, Tensor HeadBias, Tensor Output);

        /// <summary>Per thread, a workspace for each shard of the models seen last, most recent first.</summary>
        [ThreadStatic] private static List<(int Shard, LruaWorkspace<T> Workspace)>? workspaces;
        private const int KeptWorkspaces = 8;

        /// <summary>
        /// Shard <paramref name="shard"/>'s workspace, serving <paramref name="shape"/>: shards never
        /// share one. One that is too small is replaced by one holding both its capacity and the shape,
        /// so memory follows the largest batch and episode seen, not the number of shapes.
        /// </summary>
        private static LruaWorkspace<T> For(LruaShape shape, int shard)
        {
            var kept = workspaces ??= [];
            var found = kept.FindIndex(w => w.Shard == shard && w.Workspace.IsFor(shape));
            var workspace = found >= 0 ? kept[found].Workspace : null;
            if (found >= 0) kept.RemoveAt(found);
            if (workspace is { } small && !small.Holds(shape))
            {
                small.Dispose(); // first, so that the two are never held at once
                workspace = new LruaWorkspace<T>(shape with { Batch = Math.Max(shape.Batch, small.Capacity.Batch), Steps = Math.Max(shape.Steps, small.Capacity.Steps) });
            }
            workspace ??= new LruaWorkspace<T>(shape);
            kept.Insert(0, (shard, workspace));
            if (kept.Count > KeptWorkspaces)
            {
                kept[^1].Workspace.Dispose();
                kept.RemoveAt(kept.Count - 1);
            }
            return workspace.Serve(shape);
        }

        /// <summary>The first episode of each of <paramref name="shards"/> near-equal shards of the batch, and the end.</summary>
        private static int[] Bounds(int batch, int shards) => [.. Enumerable.Range(0, shards + 1).Select(i => i * batch / shards)];

        private static LruaWorkspace<T>[] Workspaces(LruaShape shape, int[] bounds) =>
            [.. Enumerable.Range(0, bounds.Length - 1).Select(i => For(shape with { Batch = bounds[i + 1] - bounds[i] }, i))];

        /// <summary>Runs <paramref name="shard"/> for each shard: inline for one; otherwise in parallel, MKL on one thread in each.</summary>
        private static void EachShard(int shards, Action<int> shard)
        {
            if (shards == 1)
            {
                shard(0);
                return;
            }
            Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = shards }, i =>
            {
                var before = Blas.SetThreadsHere(1);
                try
                {
                    shard(i);
                }
                finally
                {
                    Blas.SetThreadsHere(before);
                }
            });
        }

        public static Saved Forward(LruaShape shape, int shards, Tensor p, Tensor wr, Tensor wk, Tensor bk, Tensor y)
        {
            Tensor pc = p.contiguous(), wrc = wr.contiguous(), wkc = wk.contiguous(), bkc = bk.contiguous();
            var bounds = Bounds(shape.Batch, shards);
            var ws = Workspaces(shape, bounds);
            RunForward(shape, bounds, ws, pc, wrc, wkc, bkc, y);
            return new Saved(shape, ws, [.. ws.Select(w => w.Generation)], pc, wrc, wkc, bkc, y);
        }

        private static void RunForward(LruaShape shape, int[] bounds, LruaWorkspace<T>[] ws, Tensor p, Tensor wr, Tensor wk, Tensor bk, Tensor y)
        {
            // [B, T, .] tensors: a shard's episodes are one contiguous block of rows.
            nint pp = (nint)Blas.Data<T>(p), pwr = (nint)Blas.Data<T>(wr), pwk = (nint)Blas.Data<T>(wk), pbk = (nint)Blas.Data<T>(bk), py = (nint)Blas.Data<T>(y);
            long perEpisodeIn = (long)shape.Steps * shape.Gates, perEpisodeOut = (long)shape.Steps * shape.Outputs;
            EachShard(ws.Length, i => LruaSequence<T>.Forward(ws[i], (T*)pp + bounds[i] * perEpisodeIn, (T*)pwr, (T*)pwk, (T*)pbk,
                (T*)py + bounds[i] * perEpisodeOut));
        }

        public static List<Tensor> Backward(Saved saved, Tensor gradient)
        {
            var (s, ws, output) = (saved.Shape, saved.Workspaces, saved.Output);
            var bounds = Bounds(s.Batch, ws.Length);
            if (ws.Select((w, i) => w.Disposed || w.Generation != saved.Generations[i]).Any(stale => stale))
            {
                // Another forward of this shape ran since (an evaluation between a forward and its
                // backward): what this backward needs is recomputed from the same inputs. Training,
                // which runs each batch's backward right after its forward, never gets here.
                ws = Workspaces(s, bounds);
                output = empty_like(saved.Output);
                RunForward(s, bounds, ws, saved.Projection, saved.Recurrent, saved.HeadWeight, saved.HeadBias, output);
            }
            var gy = gradient.contiguous();
            var dp = empty_like(saved.Projection);
            var dwr = empty_like(saved.Recurrent);
            var dwk = empty_like(saved.HeadWeight);
            var dbk = empty(s.HeadOutputs, saved.Projection.dtype);
            nint pgy = (nint)Blas.Data<T>(gy), pwr = (nint)Blas.Data<T>(saved.Recurrent), pwk = (nint)Blas.Data<T>(saved.HeadWeight), py = (nint)Blas.Data<T>(output);
            nint pdp = (nint)Blas.Data<T>(dp);
            T* odwr = Blas.Data<T>(dwr), odwk = Blas.Data<T>(dwk), odbk = Blas.Data<T>(dbk);
            long perEpisodeIn = (long)s.Steps * s.Gates, perEpisodeOut = (long)s.Steps * s.Outputs;
            // One shard writes the weights' gradients where they go; several write their own, added below in shard order.
            (nint Recurrent, nint Head, nint Bias)[] parts = ws.Length == 1 ? [((nint)odwr, (nint)odwk, (nint)odbk)]
                : [.. ws.Select(w => ((nint)w.RecurrentWeightGradient, (nint)w.HeadWeightGradient, (nint)w.HeadBiasGradient))];
            EachShard(ws.Length, i => LruaSequence<T>.Backward(ws[i], (T*)pgy + bounds[i] * perEpisodeOut, (T*)pwr, (T*)pwk, (T*)py + bounds[i] * perEpisodeOut,
                (T*)pdp + bounds[i] * perEpisodeIn, (T*)parts[i].Recurrent, (T*)parts[i].Head, (T*)parts[i].Bias));
            if (ws.Length > 1)
            {
                Sum(parts.Select(p => p.Recurrent), odwr, (long)s.Gates * s.RecurrentInputs);
                Sum(parts.Select(p => p.Head), odwk, (long)s.HeadOutputs * s.Hidden);
                Sum(parts.Select(p => p.Bias), odbk, s.HeadOutputs);
            }
            return [dp, dwr, dwk, dbk, null!, null!];
        }

        private static void Sum(IEnumerable<nint> parts, T* total, long count)
        {
            new Span<T>(total, checked((int)count)).Clear();
            foreach (var part in parts)
            {
                var from = (T*)part;
                for (long j = 0; j < count; j++) total[j] += from[j];
            }
        }
    }
}
