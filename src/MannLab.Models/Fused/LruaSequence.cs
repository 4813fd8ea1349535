using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MannLab.Models.Fused;

/// <summary>The sizes and options of one fused MANN recurrence: a controller with LRUA memory over T steps.</summary>
public sealed record LruaShape(int Batch, int Steps, int Hidden, bool Lstm, int Heads, int Width, int Slots, double Gamma,
    bool PerHead, bool KeyStrength, bool AddVector)
{
    public int Gates => Lstm ? 4 * Hidden : Hidden;
    public int ReadWidth => Heads * Width;
    /// <summary>What the recurrent weight multiplies: [r_{t-1}, h_{t-1}] for an LSTM, r_{t-1} for a feed-forward controller.</summary>
    public int RecurrentInputs => ReadWidth + (Lstm ? Hidden : 0);
    public int HeadOutputs => ReadWidth + Heads + (KeyStrength ? Heads : 0) + (AddVector ? ReadWidth : 0);
    /// <summary>Rows of w^lu: one per head (per-head rule), or one shared by every head (the literal rule).</summary>
    public int LeastUsedRows => PerHead ? Heads : 1;
    /// <summary>Each step's output: [h_t, r_t], what the output layer reads.</summary>
    public int Outputs => Hidden + ReadWidth;
}

/// <summary>
/// Everything one batch's forward keeps for its backward, in one native block sized for a
/// capacity (the largest batch and steps it has served) and reused by every batch of the same
/// model that fits, whatever its batch or episode length: a curriculum's growing episodes or an
/// evaluation's smaller last batch reuse it, and a longer episode replaces it by one that holds
/// both, so a process keeps one workspace per model and shard, not one per shape it ever saw.
/// Every buffer is laid out by the shape it serves now. <see cref="Generation"/> counts
/// forwards, so a backward can tell that a later forward overwrote what it needs.
/// </summary>
internal sealed unsafe class LruaWorkspace<T> : IDisposable where T : unmanaged
{
    private T* block;
    private long taken;

    public LruaWorkspace(LruaShape capacity)
    {
        Capacity = Shape = capacity;
        Lay(null); // sizes only
        var bytes = (nuint)(taken * sizeof(T));
        block = (T*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(block, bytes);
        taken = 0;
        Lay(block);
    }

    /// <summary>The largest batch and episode length this workspace holds.</summary>
    public LruaShape Capacity { get; }
    /// <summary>The shape it serves now: the last forward's.</summary>
    public LruaShape Shape { get; private set; }
    public long Generation { get; set; }
    public bool Disposed => block == null;

    /// <summary>Whether <paramref name="shape"/> is this workspace's model: the same sizes and options but for batch and steps.</summary>
    public bool IsFor(LruaShape shape) => shape with { Batch = Capacity.Batch, Steps = Capacity.Steps } == Capacity;

    public bool Holds(LruaShape shape) => IsFor(shape) && shape.Batch <= Capacity.Batch && shape.Steps <= Capacity.Steps;

    /// <summary>Lays the buffers out for <paramref name="shape"/>, which it must hold; what they held is then meaningless.</summary>
    public LruaWorkspace<T> Serve(LruaShape shape)
    {
        if (!Holds(shape)) throw new ArgumentException($"a workspace for {Capacity} does not hold {shape}", nameof(shape));
        Shape = shape;
        return this;
    }

    // Saved by the forward pass. [B, T, .] where the controller's GEMMs read them by step (rows
    // T apart); [T, B, .] for the memory's, one step at a time; memory and weights have T + 1
    // entries, the first being the state before step 0.
    public T* X, Gates, Cells, CellTanh, HeadRaw, Head, KeyNorms, Keys, Memory, InverseNorms, Cosines, Reads, Writes, LeastUsed, Keep, Usage;

    // The backward pass's own; the weights' gradients are a shard's part of them (LruaRecurrence).
    public T* HeadGradients, MemoryGradient, ReadCarry, HiddenCarry, CellCarry, RecurrentGradient, StepHidden, ReadGradient, WeightGradient,
        CosineGradient, KeyGradient, AddGradient, WriteGradient, NormGradient, RecurrentWeightGradient, HeadWeightGradient, HeadBiasGradient;

    /// <summary>Each buffer's place in the block at <paramref name="at"/>, sized by <see cref="Capacity"/>; with null, only the total.</summary>
    private void Lay(T* at)
    {
        var s = Capacity;
        long b = s.Batch, t = s.Steps, n = s.Slots, w = s.Width, r = s.Heads;
        X = Take(at, b * t * s.RecurrentInputs);
        Gates = Take(at, b * t * s.Gates);
        Cells = Take(at, b * t * s.Hidden);
        CellTanh = Take(at, b * t * s.Hidden);
        HeadRaw = Take(at, b * t * s.HeadOutputs);
        Head = Take(at, b * t * s.HeadOutputs);
        KeyNorms = Take(at, t * b * r);
        Keys = Take(at, t * b * r * w);
        Memory = Take(at, (t + 1) * b * n * w);
        InverseNorms = Take(at, t * b * n);
        Cosines = Take(at, t * b * r * n);
        Reads = Take(at, (t + 1) * b * r * n);
        Writes = Take(at, t * b * r * n);
        LeastUsed = Take(at, (t + 1) * b * s.LeastUsedRows * n);
        Keep = Take(at, (t + 1) * b * n);
        Usage = Take(at, b * n);
        HeadGradients = Take(at, b * t * s.HeadOutputs);
        MemoryGradient = Take(at, b * n * w);
        ReadCarry = Take(at, b * r * n);
        HiddenCarry = Take(at, b * s.Hidden);
        CellCarry = Take(at, b * s.Hidden);
        RecurrentGradient = Take(at, b * s.RecurrentInputs);
        StepHidden = Take(at, b * s.Hidden);
        ReadGradient = Take(at, b * r * w);
        WeightGradient = Take(at, b * r * n);
        CosineGradient = Take(at, b * r * n);
        KeyGradient = Take(at, b * r * w);
        AddGradient = Take(at, b * r * w);
        WriteGradient = Take(at, b * r * n);
        NormGradient = Take(at, b * n);
        RecurrentWeightGradient = Take(at, (long)s.Gates * s.RecurrentInputs);
        HeadWeightGradient = Take(at, (long)s.HeadOutputs * s.Hidden);
        HeadBiasGradient = Take(at, s.HeadOutputs);
    }

    /// <summary>The next <paramref name="count"/> elements of the block, each buffer starting on a 64-byte line.</summary>
    private T* Take(T* at, long count)
    {
        var start = at + taken;
        var perLine = 64 / sizeof(T);
        taken += (count + perLine - 1) / perLine * perLine;
        return start;
    }

    public void Dispose()
    {
        if (block == null) return;
        NativeMemory.AlignedFree(block);
        block = null;
    }
}

/// <summary>
/// The MANN recurrence of <see cref="MannModel"/> with <see cref="LruaMemory"/>, all T steps
/// forward and backward by hand: the controller (LSTM or feed-forward) on the precomputed
/// input projection, the memory's head, LRUA's write (eq. 6, 8), content read (eq. 2-4) and
/// usage (eq. 5, 7). It computes what the module path computes, in the same order of steps;
/// only the rounding may differ. Usage and the least-used choice carry no gradient, as there.
/// </summary>
internal static unsafe class LruaSequence<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Epsilon = T.CreateChecked(1e-8), EpsilonSquared = T.CreateChecked(1e-16),
        Half = T.CreateChecked(0.5), SoftplusThreshold = T.CreateChecked(20), InitialMemory = T.CreateChecked(LruaMemory.InitialMemory);
    /// <summary>1 / |M(i)| for a slot whose squared norm is at most epsilon squared: computed as the forward pass computes it.</summary>
    private static readonly T ClampedInverseNorm = T.One / T.Sqrt(EpsilonSquared);

    private static T Sigmoid(T x) => T.One / (T.One + T.Exp(-x));

    /// <param name="p">[B, T, G]: the input projection W_x [x_t, y_{t-1}] + b of every step.</param>
    /// <param name="wr">[G, K]: the recurrent weight.</param>
    /// <param name="wk">[O, H] and <paramref name="bk"/> [O]: the memory's head.</param>
    /// <param name="y">[B, T, H + R W]: [h_t, r_t] of every step, written here.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a few long calls per batch: tiering would run them unoptimised, then on-stack-replaced
    public static void Forward(LruaWorkspace<T> ws, T* p, T* wr, T* wk, T* bk, T* y)
    {
        var s = ws.Shape;
        int batch = s.Batch, steps = s.Steps, hidden = s.Hidden, g = s.Gates, k = s.RecurrentInputs, o = s.HeadOutputs, rw = s.ReadWidth;
        int heads = s.Heads, width = s.Width, slots = s.Slots, lu = s.LeastUsedRows, outputs = s.Outputs;
        long memory = (long)slots * width, weights = (long)heads * slots;
        var gamma = T.CreateChecked(s.Gamma);
        ws.Generation++;
        Start(ws);
        for (var t = 0; t < steps; t++)
        {
            // The controller: z = W_x [x_t, y_{t-1}] + b (precomputed) + W_r [r_{t-1}, h_{t-1}].
            for (var b = 0; b < batch; b++)
            {
                T* x = ws.X + ((long)b * steps + t) * k, previous = y + ((long)b * steps + t - 1) * outputs;
                if (t == 0) new Span<T>(x, k).Clear();
                else
                {
                    new ReadOnlySpan<T>(previous + hidden, rw).CopyTo(new Span<T>(x, rw));
                    if (s.Lstm) new ReadOnlySpan<T>(previous, hidden).CopyTo(new Span<T>(x + rw, hidden));
                }
                new ReadOnlySpan<T>(p + ((long)b * steps + t) * g, g).CopyTo(new Span<T>(ws.Gates + ((long)b * steps + t) * g, g));
            }
            Blas.Gemm(false, true, batch, g, k, ws.X + (long)t * k, steps * k, wr, k, 1, ws.Gates + (long)t * g, steps * g);
            for (var b = 0; b < batch; b++)
            {
                long row = (long)b * steps + t;
                T* z = ws.Gates + row * g, h = y + row * outputs;
                if (s.Lstm)
                {
                    // Gate order i, f, o, g: c_t = f c_{t-1} + i g; h_t = o tanh(c_t). sigma(x) = (1 + tanh(x / 2)) / 2, so one vector tanh does all four.
                    T* c = ws.Cells + row * hidden, tc = ws.CellTanh + row * hidden, cPrevious = c - hidden;
                    Scale(z, Half, z, 3 * hidden);
                    Blas.Tanh(z, z, g);
                    for (var j = 0; j < 3 * hidden; j++) z[j] = Half + Half * z[j];
                    for (var j = 0; j < hidden; j++) c[j] = z[hidden + j] * (t == 0 ? T.Zero : cPrevious[j]) + z[j] * z[3 * hidden + j];
                    Blas.Tanh(c, tc, hidden);
                    for (var j = 0; j < hidden; j++) h[j] = z[2 * hidden + j] * tc[j];
                }
                else
                {
                    for (var j = 0; j < hidden; j++) h[j] = T.Max(z[j], T.Zero);
                }
                new ReadOnlySpan<T>(bk, o).CopyTo(new Span<T>(ws.HeadRaw + row * o, o));
            }
            // The memory's head: its raw outputs, then keys (tanh), gates (sigmoid), key strengths (1 + softplus), add vectors (tanh).
            Blas.Gemm(false, true, batch, o, hidden, y + (long)t * outputs, steps * outputs, wk, hidden, 1, ws.HeadRaw + (long)t * o, steps * o);
            for (var b = 0; b < batch; b++)
            {
                long row = (long)b * steps + t;
                T* raw = ws.HeadRaw + row * o, head = ws.Head + row * o;
                Blas.Tanh(raw, head, rw);
                for (var j = rw; j < rw + heads; j++) head[j] = Sigmoid(raw[j]);
                if (s.KeyStrength)
                    for (var j = rw + heads; j < rw + 2 * heads; j++) head[j] = T.One + (raw[j] > SoftplusThreshold ? raw[j] : T.Log(T.One + T.Exp(raw[j])));
                if (s.AddVector) Blas.Tanh(raw + o - rw, head + o - rw, rw);
            }

            // Per episode, one pass over the slots writes, measures and compares each one:
            // the write (eq. 6, 8): w^w_t = w^lu_{t-1} + sigma(alpha)(w^r_{t-1} - w^lu_{t-1}); the least-used slot
            // zeroed, then M_t(i) = M_{t-1}(i) + sum over heads of w^w_t(i) a_t; and the cosine of eq. 2,
            // K(k_t, M_t(i)) = k^_t . M_t(i) / |M_t(i)|, with k^_t = k_t / |k_t|.
            T* mPrevious = ws.Memory + (long)t * batch * memory, m = mPrevious + batch * memory;
            T* wrPrevious = ws.Reads + (long)t * batch * weights, wrNow = wrPrevious + batch * weights, ww = ws.Writes + (long)t * batch * weights;
            T* luPrevious = ws.LeastUsed + (long)t * batch * lu * slots, keepPrevious = ws.Keep + (long)t * batch * slots;
            T* keys = ws.Keys + (long)t * batch * heads * width, norms = ws.KeyNorms + (long)t * batch * heads, inverse = ws.InverseNorms + (long)t * batch * slots;
            T* cosines = ws.Cosines + (long)t * batch * weights;
            for (var b = 0; b < batch; b++)
            {
                T* head = ws.Head + ((long)b * steps + t) * o, add = head + (s.AddVector ? o - rw : 0);
                T* write = ww + b * weights, normalised = keys + (long)b * heads * width, cosine = cosines + b * weights;
                for (var r = 0; r < heads; r++)
                {
                    T gate = head[rw + r];
                    T* least = luPrevious + ((long)b * lu + (s.PerHead ? r : 0)) * slots, read = wrPrevious + b * weights + r * slots;
                    for (var i = 0; i < slots; i++) write[r * slots + i] = least[i] + gate * (read[i] - least[i]);
                    var norm = T.Sqrt(Dot(head + r * width, head + r * width, width));
                    norms[b * heads + r] = norm;
                    Scale(head + r * width, T.One / T.Max(norm, Epsilon), normalised + r * width, width);
                }
                T* keep = keepPrevious + (long)b * slots, from = mPrevious + b * memory, to = m + b * memory, inv = inverse + (long)b * slots;
                for (var i = 0; i < slots; i++)
                {
                    T* slot = to + i * width;
                    Scale(from + i * width, keep[i], slot, width);
                    for (var r = 0; r < heads; r++) AddScaled(add + r * width, write[r * slots + i], slot, width);
                    inv[i] = T.One / T.Sqrt(T.Max(Dot(slot, slot, width), EpsilonSquared));
                    for (var r = 0; r < heads; r++) cosine[r * slots + i] = Dot(normalised + r * width, slot, width);
                }
                // Eq. 3: w^r_t = softmax over slots of K (times beta_t); the exponentials come after, for every episode at once.
                for (var r = 0; r < heads; r++)
                {
                    T* weight = wrNow + b * weights + r * slots;
                    var strength = s.KeyStrength ? head[rw + heads + r] : T.One;
                    var max = T.NegativeInfinity;
                    for (var i = 0; i < slots; i++)
                    {
                        weight[i] = cosine[r * slots + i] * inv[i] * strength;
                        max = T.Max(max, weight[i]);
                    }
                    for (var i = 0; i < slots; i++) weight[i] -= max;
                }
            }
            Blas.Exp(wrNow, wrNow, checked((int)(batch * weights)));
            for (var b = 0; b < batch; b++)
            {
                // Eq. 4: r_t = sum_i w^r_t(i) M_t(i), in a second pass over the slots.
                T* weight = wrNow + b * weights, read = y + ((long)b * steps + t) * outputs + hidden, slotsOf = m + b * memory;
                for (var r = 0; r < heads; r++)
                {
                    var sum = T.Zero;
                    for (var i = 0; i < slots; i++) sum += weight[r * slots + i];
                    Scale(weight + r * slots, T.One / sum, weight + r * slots, slots);
                }
                new Span<T>(read, rw).Clear();
                for (var i = 0; i < slots; i++)
                    for (var r = 0; r < heads; r++) AddScaled(slotsOf + i * width, weight[r * slots + i], read + r * width, width);
            }

            // Usage (eq. 5) and the least-used slots (eq. 7), without gradients.
            for (var b = 0; b < batch; b++)
            {
                T* usage = ws.Usage + (long)b * slots;
                for (var i = 0; i < slots; i++)
                {
                    var sum = T.Zero;
                    for (var r = 0; r < heads; r++) sum += wrNow[b * weights + r * slots + i] + ww[b * weights + r * slots + i];
                    usage[i] = sum + gamma * usage[i];
                }
                LeastUsedOf(s, usage, ws.LeastUsed + (((long)t + 1) * batch + b) * lu * slots, ws.Keep + (((long)t + 1) * batch + b) * slots);
            }
        }
    }

    /// <summary>The wiped state before step 0: M_0 a small constant, no weights, no usage.</summary>
    private static void Start(LruaWorkspace<T> ws)
    {
        var s = ws.Shape;
        long batch = s.Batch, slots = s.Slots;
        new Span<T>(ws.Memory, checked((int)(batch * slots * s.Width))).Fill(InitialMemory);
        new Span<T>(ws.Reads, checked((int)(batch * s.Heads * slots))).Clear();
        new Span<T>(ws.Usage, checked((int)(batch * slots))).Clear();
        for (var b = 0; b < batch; b++) LeastUsedOf(s, ws.Usage + b * slots, ws.LeastUsed + b * s.LeastUsedRows * slots, ws.Keep + b * slots);
    }

    /// <summary>
    /// Eq. 7 as <see cref="LruaMemory.LeastUsed"/> computes it: the heads' n smallest usages in
    /// stable order (ties by slot index); the literal rule marks every slot at or below the n-th,
    /// the per-head rule gives head h the h-th. Keep is 0 at the single least-used slot.
    /// </summary>
    private static void LeastUsedOf(LruaShape s, T* usage, T* leastUsed, T* keep)
    {
        int slots = s.Slots, heads = s.Heads;
        Span<int> order = stackalloc int[heads];
        for (var h = 0; h < heads; h++)
        {
            var best = -1;
            for (var i = 0; i < slots; i++)
            {
                if (order[..h].Contains(i)) continue;
                if (best < 0 || usage[i] < usage[best]) best = i;
            }
            order[h] = best;
        }
        new Span<T>(keep, slots).Fill(T.One);
        keep[order[0]] = T.Zero;
        new Span<T>(leastUsed, s.LeastUsedRows * slots).Clear();
        if (s.PerHead)
            for (var h = 0; h < heads; h++) leastUsed[h * slots + order[h]] = T.One;
        else
            for (var i = 0; i < slots; i++) leastUsed[i] = usage[i] <= usage[order[heads - 1]] ? T.One : T.Zero;
    }

    /// <param name="gy">[B, T, H + R W]: the loss's gradient with respect to every step's [h_t, r_t].</param>
    /// <param name="dp">[B, T, G]: the gradient with respect to the input projection, written here.</param>
    /// <param name="dwr">[G, K], <paramref name="dwk"/> [O, H], <paramref name="dbk"/> [O]: the weights' gradients, written here.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a few long calls per batch: tiering would run them unoptimised, then on-stack-replaced
    public static void Backward(LruaWorkspace<T> ws, T* gy, T* wr, T* wk, T* y, T* dp, T* dwr, T* dwk, T* dbk)
    {
        var s = ws.Shape;
        int batch = s.Batch, steps = s.Steps, hidden = s.Hidden, g = s.Gates, k = s.RecurrentInputs, o = s.HeadOutputs, rw = s.ReadWidth;
        int heads = s.Heads, width = s.Width, slots = s.Slots, lu = s.LeastUsedRows, outputs = s.Outputs;
        long memory = (long)slots * width, weights = (long)heads * slots;
        new Span<T>(ws.MemoryGradient, checked((int)(batch * memory))).Clear();
        new Span<T>(ws.ReadCarry, checked((int)(batch * weights))).Clear();
        new Span<T>(ws.HiddenCarry, batch * hidden).Clear();
        new Span<T>(ws.CellCarry, batch * hidden).Clear();
        new Span<T>(ws.RecurrentGradient, batch * k).Clear();
        for (var t = steps - 1; t >= 0; t--)
        {
            T* m = ws.Memory + ((long)t + 1) * batch * memory, wrNow = ws.Reads + ((long)t + 1) * batch * weights, wrPrevious = wrNow - batch * weights;
            T* ww = ws.Writes + (long)t * batch * weights, cosines = ws.Cosines + (long)t * batch * weights, inverse = ws.InverseNorms + (long)t * batch * slots;
            T* keys = ws.Keys + (long)t * batch * heads * width, norms = ws.KeyNorms + (long)t * batch * heads;
            T* luPrevious = ws.LeastUsed + (long)t * batch * lu * slots, keepPrevious = ws.Keep + (long)t * batch * slots;
            T* dm = ws.MemoryGradient, dr = ws.ReadGradient, dw = ws.WeightGradient, dcos = ws.CosineGradient;

            // dr_t: from the output layer and from step t+1's controller input.
            for (var b = 0; b < batch; b++)
                for (var j = 0; j < rw; j++)
                    dr[b * rw + j] = gy[((long)b * steps + t) * outputs + hidden + j] + ws.RecurrentGradient[b * k + j];
            for (var b = 0; b < batch; b++)
            {
                T* head = ws.Head + ((long)b * steps + t) * o, dhead = ws.HeadGradients + ((long)b * steps + t) * o, add = head + (s.AddVector ? o - rw : 0);
                T* slotsOf = m + b * memory, dslots = dm + b * memory, inv = inverse + (long)b * slots, dinv = ws.NormGradient + (long)b * slots;
                T* read = dr + (long)b * rw, weight = wrNow + b * weights, dweight = dw + b * weights, carry = ws.ReadCarry + b * weights;
                T* cosine = cosines + b * weights, dcosine = dcos + b * weights, normalised = keys + (long)b * heads * width;
                T* dnormalised = ws.KeyGradient + (long)b * rw, dadd = ws.AddGradient + (long)b * rw, write = ww + b * weights, dwrite = ws.WriteGradient + b * weights;
                // r_t = w^r_t M_t: dw^r(i) = dr . M_t(i) (plus what step t+1's write weights sent back); dM(i) += sum over heads of w^r(i) dr.
                for (var i = 0; i < slots; i++)
                    for (var r = 0; r < heads; r++)
                    {
                        dweight[r * slots + i] = carry[r * slots + i] + Dot(read + r * width, slotsOf + i * width, width);
                        AddScaled(read + r * width, weight[r * slots + i], dslots + i * width, width);
                    }
                new Span<T>(dinv, slots).Clear();
                for (var r = 0; r < heads; r++)
                {
                    // Softmax, then the key strength: dlogit = w (dw - <w, dw>); dcos = dlogit beta inv; dbeta = <dlogit, cos inv>.
                    T* weightRow = weight + r * slots, dWeightRow = dweight + r * slots, cos = cosine + r * slots, dc = dcosine + r * slots;
                    var inner = Dot(weightRow, dWeightRow, slots);
                    var strength = s.KeyStrength ? head[rw + heads + r] : T.One;
                    var dstrength = T.Zero;
                    for (var i = 0; i < slots; i++)
                    {
                        var dlogit = weightRow[i] * (dWeightRow[i] - inner);
                        dstrength += dlogit * cos[i] * inv[i];
                        var dsimilarity = dlogit * strength;
                        dinv[i] += dsimilarity * cos[i];
                        dc[i] = dsimilarity * inv[i];
                    }
                    if (s.KeyStrength)
                    {
                        var raw = ws.HeadRaw[((long)b * steps + t) * o + rw + heads + r];
                        dhead[rw + heads + r] = raw > SoftplusThreshold ? dstrength : dstrength * Sigmoid(raw);
                    }
                }
                // A second pass over the slots: cos = k^ . M_t(i): dk^ += dcos(i) M_t(i), dM(i) += dcos(i) k^; inv = 1 / |M_t(i)|:
                // dM(i) += -dinv inv^3 M_t(i) (where the norm was not clamped). dM(i) is then whole, and the write's
                // M_t(i) = keep M_{t-1}(i) + sum over heads of w^w(i) a gives dw^w(i) = a . dM(i), da += w^w(i) dM(i), dM_{t-1}(i) = keep dM(i).
                new Span<T>(dnormalised, rw).Clear();
                new Span<T>(dadd, rw).Clear();
                T* keep = keepPrevious + (long)b * slots;
                for (var i = 0; i < slots; i++)
                {
                    T* slot = slotsOf + i * width, dslot = dslots + i * width;
                    for (var r = 0; r < heads; r++)
                    {
                        AddScaled(slot, dcosine[r * slots + i], dnormalised + r * width, width);
                        AddScaled(normalised + r * width, dcosine[r * slots + i], dslot, width);
                    }
                    if (inv[i] != ClampedInverseNorm) AddScaled(slot, -dinv[i] * inv[i] * inv[i] * inv[i], dslot, width);
                    for (var r = 0; r < heads; r++)
                    {
                        dwrite[r * slots + i] = Dot(add + r * width, dslot, width);
                        AddScaled(dslot, write[r * slots + i], dadd + r * width, width);
                    }
                    Scale(dslot, keep[i], dslot, width);
                }
                for (var r = 0; r < heads; r++)
                {
                    // w^w = w^lu + g (w^r_{t-1} - w^lu): dg = <dw^w, w^r_{t-1} - w^lu>; dw^r_{t-1} = g dw^w.
                    T* dwriteRow = dwrite + r * slots, readBefore = wrPrevious + b * weights + r * slots, carryRow = carry + r * slots;
                    T* least = luPrevious + ((long)b * lu + (s.PerHead ? r : 0)) * slots;
                    T gate = head[rw + r], dgate = T.Zero;
                    for (var i = 0; i < slots; i++)
                    {
                        dgate += dwriteRow[i] * (readBefore[i] - least[i]);
                        carryRow[i] = gate * dwriteRow[i];
                    }
                    dhead[rw + r] = dgate * gate * (T.One - gate);
                    // k^ = k / max(|k|, eps): dk = (dk^ - k^ <dk^, k^>) / |k|.
                    T* key = head + r * width, keyNormalised = normalised + r * width, dkeyNormalised = dnormalised + r * width, daddRow = dadd + r * width;
                    var norm = norms[b * heads + r];
                    var along = norm > Epsilon ? Dot(dkeyNormalised, keyNormalised, width) : T.Zero;
                    var scale = T.One / T.Max(norm, Epsilon);
                    for (var j = 0; j < width; j++)
                    {
                        var dkey = (dkeyNormalised[j] - keyNormalised[j] * along) * scale + (s.AddVector ? T.Zero : daddRow[j]);
                        dhead[r * width + j] = dkey * (T.One - key[j] * key[j]);
                        if (s.AddVector)
                        {
                            var a = head[o - rw + r * width + j];
                            dhead[o - rw + r * width + j] = daddRow[j] * (T.One - a * a);
                        }
                    }
                }
            }

            // The controller: dh_t from the output layer, the head, and step t+1's recurrent input.
            for (var b = 0; b < batch; b++)
                for (var j = 0; j < hidden; j++)
                    ws.StepHidden[b * hidden + j] = gy[((long)b * steps + t) * outputs + j] + ws.HiddenCarry[b * hidden + j];
            Blas.Gemm(false, false, batch, hidden, o, ws.HeadGradients + (long)t * o, steps * o, wk, hidden, 1, ws.StepHidden, hidden);
            for (var b = 0; b < batch; b++)
            {
                long row = (long)b * steps + t;
                T* dh = ws.StepHidden + (long)b * hidden, dz = dp + row * g, z = ws.Gates + row * g;
                if (s.Lstm)
                {
                    T* c = ws.Cells + row * hidden, tc = ws.CellTanh + row * hidden, dc = ws.CellCarry + (long)b * hidden;
                    for (var j = 0; j < hidden; j++)
                    {
                        T i = z[j], f = z[hidden + j], og = z[2 * hidden + j], gg = z[3 * hidden + j];
                        var dcell = dc[j] + dh[j] * og * (T.One - tc[j] * tc[j]);
                        var cPrevious = t == 0 ? T.Zero : c[j - hidden];
                        dz[j] = dcell * gg * i * (T.One - i);
                        dz[hidden + j] = dcell * cPrevious * f * (T.One - f);
                        dz[2 * hidden + j] = dh[j] * tc[j] * og * (T.One - og);
                        dz[3 * hidden + j] = dcell * i * (T.One - gg * gg);
                        dc[j] = dcell * f;
                    }
                }
                else
                {
                    T* h = y + row * outputs;
                    for (var j = 0; j < hidden; j++) dz[j] = h[j] > T.Zero ? dh[j] : T.Zero;
                }
            }
            // d[r_{t-1}, h_{t-1}] = dz W_r, for step t-1.
            Blas.Gemm(false, false, batch, k, g, dp + (long)t * g, steps * g, wr, k, 0, ws.RecurrentGradient, k);
            for (var b = 0; b < batch; b++)
            {
                if (s.Lstm) new ReadOnlySpan<T>(ws.RecurrentGradient + (long)b * k + rw, hidden).CopyTo(new Span<T>(ws.HiddenCarry + (long)b * hidden, hidden));
                else new Span<T>(ws.HiddenCarry + (long)b * hidden, hidden).Clear();
            }
        }
        // The shared weights' gradients, each in one GEMM over every step: dW_r = dZ^T X, dW_k = dE^T H.
        int rows = batch * steps;
        Blas.Gemm(true, false, g, k, rows, dp, g, ws.X, k, 0, dwr, k);
        Blas.Gemm(true, false, o, hidden, rows, ws.HeadGradients, o, y, outputs, 0, dwk, hidden);
        new Span<T>(dbk, o).Clear();
        for (var row = 0; row < rows; row++)
            for (var j = 0; j < o; j++) dbk[j] += ws.HeadGradients[(long)row * o + j];
    }

    private static T Dot(T* a, T* b, int count)
    {
        var sum = T.Zero;
        var i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var acc = Vector<T>.Zero;
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
                acc += Vector.Load(a + i) * Vector.Load(b + i);
            sum = Vector.Sum(acc);
        }
        for (; i < count; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>to = scale from (in place when they are the same).</summary>
    private static void Scale(T* from, T scale, T* to, int count)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
            for (var v = new Vector<T>(scale); i <= count - Vector<T>.Count; i += Vector<T>.Count)
                Vector.Store(Vector.Load(from + i) * v, to + i);
        for (; i < count; i++) to[i] = from[i] * scale;
    }

    /// <summary>to += scale from.</summary>
    private static void AddScaled(T* from, T scale, T* to, int count)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated)
            for (var v = new Vector<T>(scale); i <= count - Vector<T>.Count; i += Vector<T>.Count)
                Vector.Store(Vector.Load(to + i) + Vector.Load(from + i) * v, to + i);
        for (; i < count; i++) to[i] += from[i] * scale;
    }
}
