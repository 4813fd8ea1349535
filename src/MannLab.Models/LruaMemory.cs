using LeastUsedRule = MannLab.Spec.LeastUsedRule;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MannLab.Models;

/// <summary>LRUA's state: the memory, the step's weights, and what the next step's write needs.</summary>
/// <param name="Memory">M_t, [B, N, W].</param>
/// <param name="ReadWeights">w^r_t, [B, R, N].</param>
/// <param name="WriteWeights">w^w_t, [B, R, N].</param>
/// <param name="UsageWeights">w^u_t, [B, N].</param>
/// <param name="LeastUsed">w^lu_t from this step's usage: [B, R, N] (per-head rule) or [B, 1, N] (literal rule: the same for every head, broadcast).</param>
/// <param name="Keep">[B, N]: 0 at the least-used slot (from this step's usage), which the next step zeroes before writing.</param>
public sealed record LruaState(Tensor Memory, Tensor ReadWeights, Tensor WriteWeights, Tensor UsageWeights, Tensor LeastUsed, Tensor Keep)
    : MemoryState(Memory, ReadWeights, WriteWeights)
{
    public override Tensor Usage => UsageWeights;

    public override IEnumerable<(string Name, Tensor Value)> Named() =>
        [.. base.Named(), (nameof(Usage), UsageWeights), (nameof(LeastUsed), LeastUsed), (nameof(Keep), Keep)];

    internal static LruaState FromNamed(Func<string, Tensor> field) => new(field(nameof(Memory)), field(nameof(ReadWeights)),
        field(nameof(WriteWeights)), field(nameof(Usage)), field(nameof(LeastUsed)), field(nameof(Keep)));
}

/// <summary>
/// Least Recently Used Access (Santoro et al. 2016, section 3.2). Through its head, each of R heads emits a key
/// k_t (tanh) and a scalar gate alpha (sigmoid). Reads are by content: cosine similarity,
/// softmax, no key strength. Writes go to the previously read slots or to the least-used ones.
/// With <c>learnedKeyStrength</c>, MannLab's extension, each head also emits beta_t =
/// 1 + softplus(beta^_t) that scales its similarities before the softmax (the NTM's sharpening).
/// Cosine similarity lies in [-1, 1], so without it a read over 128 slots can favour the best slot
/// over an orthogonal one by at most e (measured: summed read weights peak near 2x uniform).
/// With <c>addVector</c>, the other extension, each head writes a separate add vector
/// a_t (tanh), as most reimplementations do, instead of its read key: the paper's eq. 8 writes k_t,
/// so the one vector must both find this step's image and carry what is bound to the previous one.
/// </summary>
public sealed class LruaMemory : ExternalMemory<LruaState>
{
    /// <summary>Initial memory: a small constant, so every slot has a direction for the cosine.</summary>
    public const float InitialMemory = 1e-6f;
    private const double NormEpsilon = 1e-8;

    private readonly int slots, width, heads;
    private readonly double gamma;
    private readonly LeastUsedRule rule;
    private readonly bool learnedKeyStrength, addVector;
    /// <summary>What the head emits per step: the keys, the gates, then the key strengths and the add vectors where used.</summary>
    private readonly long[] headLayout;

    public LruaMemory(int hiddenUnits, int slots, int width, int heads, double gamma, LeastUsedRule rule,
        bool learnedKeyStrength = false, bool addVector = false, bool persistent = false)
        : base(nameof(LruaMemory), hiddenUnits, heads, width, HeadLayout(width, heads, learnedKeyStrength, addVector).Sum(), persistent)
    {
        (this.slots, this.width, this.heads, this.gamma, this.rule) = (slots, width, heads, gamma, rule);
        (this.learnedKeyStrength, this.addVector) = (learnedKeyStrength, addVector);
        headLayout = HeadLayout(width, heads, learnedKeyStrength, addVector);
        Register();
    }

    /// <summary>The shape of the fused recurrence (<see cref="Fused.LruaRecurrence"/>) with this memory; null for persistent memory, which only the module path carries.</summary>
    internal Fused.LruaShape? FusedShape(long batch, long steps, int hiddenUnits, bool lstm) => Persistent ? null
        : new((int)batch, (int)steps, hiddenUnits, lstm, heads, width, slots, gamma, rule.IsPerHead, learnedKeyStrength, addVector);

    private static long[] HeadLayout(int width, int heads, bool learnedKeyStrength, bool addVector) =>
        [heads * width, heads, .. learnedKeyStrength ? new long[] { heads } : [], .. addVector ? new long[] { heads * width } : []];

    public override LruaState Initial(long batch, Device device, ScalarType dtype)
    {
        var usage = zeros(batch, slots, dtype, device);
        var (leastUsed, keep) = LeastUsed(usage);
        return new LruaState(full(batch, slots, width, Scalars.Of(InitialMemory), dtype, device),
            zeros(batch, heads, slots, dtype, device), zeros(batch, heads, slots, dtype, device), usage, leastUsed, keep);
    }

    protected override LruaState FromNamed(Func<string, Tensor> field) => LruaState.FromNamed(field);

    public override (Tensor Read, LruaState Next) Step(LruaState state, Tensor emitted)
    {
        var batch = emitted.shape[0];
        var parts = emitted.split(headLayout, 1);
        var keys = parts[0].tanh().view(batch, heads, width);
        var gate = parts[1].sigmoid().unsqueeze(2);
        var strength = learnedKeyStrength ? Scalars.Softplus(parts[2]).PlusInPlace(1).unsqueeze(2) : null;
        var add = addVector ? parts[^1].tanh().view(batch, heads, width) : null;
        return Step(state, keys, gate, strength, add);
    }

    /// <param name="keys">k_t, [B, R, W].</param>
    /// <param name="gate">sigma(alpha), [B, R, 1].</param>
    /// <param name="strength">beta_t, [B, R, 1], or null for the paper's read.</param>
    /// <param name="add">a_t, [B, R, W], written instead of k_t; null for the paper's write.</param>
    public (Tensor Read, LruaState Next) Step(LruaState state, Tensor keys, Tensor gate, Tensor? strength = null, Tensor? add = null)
    {
        // Eq. 6: w^w_t = sigma(alpha) w^r_{t-1} + (1 - sigma(alpha)) w^lu_{t-1}.
        var writeWeights = lerp(state.LeastUsed, state.ReadWeights, gate);
        // Before writing, the least-used slot (from w^u_{t-1}) is set to zero; then eq. 8:
        // M_t(i) = M_{t-1}(i) + sum over heads of w^w_t(i) k_t. One addcmul does both.
        // (Not baddbmm: TorchSharp 0.107's baddbmm expands the wrong operand.)
        var memory = addcmul(bmm(writeWeights.transpose(1, 2), add ?? keys), state.Memory, state.Keep.unsqueeze(2), Scalars.One);
        // Eq. 2-3: K(k_t, M_t(i)) = k_t . M_t(i) / (|k_t| |M_t(i)|); w^r_t = softmax over slots.
        // The slot norms scale the [B, R, N] products instead of normalising the whole [B, N, W]
        // memory: the same value, a fraction of the work forward and backward.
        var inverseNorms = memory.pow(Scalars.Of(2)).sum(2).clamp_min(Scalars.Of(NormEpsilon * NormEpsilon)).rsqrt().unsqueeze(1);
        var similarity = bmm(F.normalize(keys, 2, 2, NormEpsilon), memory.transpose(1, 2)) * inverseNorms;
        var readWeights = (strength is null ? similarity : similarity * strength).softmax(2);
        // Eq. 4: r_t = sum_i w^r_t(i) M_t(i).
        var read = bmm(readWeights, memory);
        Tensor usage, leastUsed, keep;
        using (no_grad())
        {
            // Eq. 5: w^u_t = gamma w^u_{t-1} + sum over heads of (w^r_t + w^w_t). Usage only feeds
            // the least-used choice, which is not differentiable, so none of this is recorded.
            usage = readWeights.Plus(writeWeights).sum(1).add_(state.UsageWeights, alpha: Scalars.Of(gamma));
            (leastUsed, keep) = LeastUsed(usage);
        }
        return (read, new LruaState(memory, readWeights, writeWeights, usage, leastUsed, keep));
    }

    /// <summary>
    /// Eq. 7: w^lu_t(i) = 1 where w^u_t(i) &lt;= m(w^u_t, n), the n-th smallest usage (n = heads),
    /// else 0; literally, every slot tied at m is included (at the start, all of them). The
    /// per-head rule instead gives head h the h-th least-used slot, ties broken by slot index.
    /// Also returns the keep mask: 0 at the single least-used slot (lowest index among ties).
    /// </summary>
    public (Tensor LeastUsed, Tensor Keep) LeastUsed(Tensor usage)
    {
        using var scope = NewDisposeScope();
        var (values, order) = usage.sort(1, descending: false, stable: true);
        var keep = ones_like(usage).scatter_(1, order.narrow(1, 0, 1), zeros(usage.shape[0], 1, usage.dtype, usage.device));
        Tensor leastUsed;
        if (rule.IsPerHead)
        {
            leastUsed = F.one_hot(order.narrow(1, 0, heads), slots).to_type(usage.dtype);
        }
        else
        {
            var nth = values.narrow(1, heads - 1, 1);
            // The same for every head: [B, 1, N], broadcast over the heads where it is used.
            leastUsed = usage.le(nth).to_type(usage.dtype).unsqueeze(1);
        }
        return (leastUsed.MoveToOuterDisposeScope(), keep.MoveToOuterDisposeScope());
    }
}
