using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MannLab.Models;

/// <summary>NTM access's state: the memory and each head's weights, which the next step interpolates with.</summary>
public sealed record NtmState(Tensor Memory, Tensor ReadWeights, Tensor WriteWeights) : MemoryState(Memory, ReadWeights, WriteWeights);

/// <summary>
/// NTM-style access (Graves et al. 2014), the paper's Table 2 comparison: R write heads and R read
/// heads (all emitted by one head Linear), each addressing by content with a key strength beta, interpolating with its previous
/// weights (gate g), shifting circularly (a softmax over -S..S) and sharpening (gamma &gt;= 1).
/// Writes erase (the heads' erase factors multiply) then add; reads follow the writes of the same step.
/// </summary>
public sealed class NtmMemory : ExternalMemory<NtmState>
{
    private const double NormEpsilon = 1e-8;
    private readonly int slots, width, heads, shiftRange;

    public NtmMemory(int hiddenUnits, int slots, int width, int heads, int shiftRange, bool persistent = false)
        : base(nameof(NtmMemory), hiddenUnits, heads, width, heads * (WriteOutputs(width, shiftRange) + AddressingOutputs(width, shiftRange)), persistent)
    {
        (this.slots, this.width, this.heads, this.shiftRange) = (slots, width, heads, shiftRange);
        Register();
    }

    // What the head emits per step: every write head's addressing, erase and add vectors, then every read head's addressing.
    private static int Shifts(int shiftRange) => 2 * shiftRange + 1;
    private static int AddressingOutputs(int width, int shiftRange) => width + 3 + Shifts(shiftRange); // key, beta, g, gamma, shift
    private static int WriteOutputs(int width, int shiftRange) => AddressingOutputs(width, shiftRange) + 2 * width; // + erase, add

    public override NtmState Initial(long batch, Device device, ScalarType dtype)
    {
        var uniform = full(batch, heads, slots, Scalars.Of(1.0 / slots), dtype, device);
        return new NtmState(full(batch, slots, width, Scalars.Of(LruaMemory.InitialMemory), dtype, device), uniform, uniform.clone());
    }

    protected override NtmState FromNamed(Func<string, Tensor> field) =>
        new(field(nameof(NtmState.Memory)), field(nameof(NtmState.ReadWeights)), field(nameof(NtmState.WriteWeights)));

    public override (Tensor Read, NtmState Next) Step(NtmState state, Tensor emitted)
    {
        var batch = emitted.shape[0];
        int addressing = AddressingOutputs(width, shiftRange), writing = WriteOutputs(width, shiftRange);
        var write = emitted.narrow(1, 0, heads * writing).view(batch, heads, writing);
        var read = emitted.narrow(1, heads * writing, heads * addressing).view(batch, heads, addressing);

        var writeWeights = Address(state.WriteWeights, state.Memory, write);
        var erase = write.narrow(2, addressing, width).sigmoid();
        var add = write.narrow(2, addressing + width, width).tanh();
        // Eq. 3 for several heads: M(i) scaled by prod_h (1 - w_h(i) e_h), the paper's "erasures can be
        // performed in any order, as multiplication is commutative" (section 3.2). A sum of the w_h e_h
        // would differ in the cross terms and could scale a slot by a negative factor.
        var kept = Scalars.OneMinus(writeWeights.unsqueeze(3) * erase.unsqueeze(2)).prod(1); // [B, N, W]
        // Eq. 4: the adds sum over the heads.
        var memory = (state.Memory * kept).Plus(bmm(writeWeights.transpose(1, 2), add));

        var readWeights = Address(state.ReadWeights, memory, read);
        return (bmm(readWeights, memory), new NtmState(memory, readWeights, writeWeights));
    }

    /// <summary>Content addressing, interpolation, circular shift and sharpening (Graves et al. 2014, eq. 5-9).</summary>
    private Tensor Address(Tensor previous, Tensor memory, Tensor p)
    {
        var key = p.narrow(2, 0, width);
        var beta = Scalars.Softplus(p.narrow(2, width, 1));
        var gate = p.narrow(2, width + 1, 1).sigmoid();
        var gamma = Scalars.Softplus(p.narrow(2, width + 2, 1)).PlusInPlace(1);
        var shift = p.narrow(2, width + 3, Shifts(shiftRange)).softmax(2);

        var similarity = bmm(F.normalize(key, 2, 2, NormEpsilon), F.normalize(memory, 2, 2, NormEpsilon).transpose(1, 2));
        var content = (beta * similarity).softmax(2);
        var gated = lerp(previous, content, gate);
        Tensor? shifted = null;
        for (var j = 0; j < Shifts(shiftRange); j++)
        {
            var term = shift.narrow(2, j, 1) * gated.roll(j - shiftRange, 2);
            shifted = shifted is null ? term : shifted.Plus(term);
        }
        var sharpened = shifted!.Plus(1e-12).pow(gamma);
        return sharpened / sharpened.sum(2, keepdim: true);
    }
}
