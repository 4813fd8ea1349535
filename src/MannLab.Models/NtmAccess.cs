using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace MannLab.Models;

/// <summary>
/// NTM-style access (Graves et al. 2014), the paper's Table 2 comparison: R write heads and R read
/// heads, each addressing by content with a key strength beta, interpolating with its previous
/// weights (gate g), shifting circularly (a softmax over -S..S) and sharpening (gamma &gt;= 1).
/// Writes erase (the heads' erase factors multiply) then add; reads follow the writes of the same step.
/// </summary>
public sealed class NtmAccess(int slots, int width, int heads, int shiftRange) : IMemoryAccess
{
    private const double NormEpsilon = 1e-8;
    private int Shifts => 2 * shiftRange + 1;
    private int AddressingOutputs => width + 3 + Shifts; // key, beta, g, gamma, shift
    private int WriteOutputs => AddressingOutputs + 2 * width; // + erase, add

    public int ControllerOutputs => heads * (AddressingOutputs + WriteOutputs);

    public MemoryState Initial(long batch, Device device, ScalarType dtype)
    {
        var uniform = full(batch, heads, slots, Scalars.Of(1.0 / slots), dtype, device);
        return new MemoryState(full(batch, slots, width, Scalars.Of(LruaAccess.InitialMemory), dtype, device), uniform, uniform.clone(), null, null, null);
    }

    public (Tensor Read, MemoryState Next) Step(MemoryState state, Tensor controllerOutput)
    {
        var batch = controllerOutput.shape[0];
        var write = controllerOutput.narrow(1, 0, heads * WriteOutputs).view(batch, heads, WriteOutputs);
        var read = controllerOutput.narrow(1, heads * WriteOutputs, heads * AddressingOutputs).view(batch, heads, AddressingOutputs);

        var writeWeights = Address(state.WriteWeights, state.Memory, write);
        var erase = write.narrow(2, AddressingOutputs, width).sigmoid();
        var add = write.narrow(2, AddressingOutputs + width, width).tanh();
        // Eq. 3 for several heads: M(i) scaled by prod_h (1 - w_h(i) e_h), the paper's "erasures can be
        // performed in any order, as multiplication is commutative" (section 3.2). A sum of the w_h e_h
        // would differ in the cross terms and could scale a slot by a negative factor.
        var kept = Scalars.OneMinus(writeWeights.unsqueeze(3) * erase.unsqueeze(2)).prod(1); // [B, N, W]
        // Eq. 4: the adds sum over the heads.
        var memory = (state.Memory * kept).Plus(bmm(writeWeights.transpose(1, 2), add));

        var readWeights = Address(state.ReadWeights, memory, read);
        return (bmm(readWeights, memory), new MemoryState(memory, readWeights, writeWeights, null, null, null));
    }

    /// <summary>Content addressing, interpolation, circular shift and sharpening (Graves et al. 2014, eq. 5-9).</summary>
    private Tensor Address(Tensor previous, Tensor memory, Tensor p)
    {
        var key = p.narrow(2, 0, width);
        var beta = Scalars.Softplus(p.narrow(2, width, 1));
        var gate = p.narrow(2, width + 1, 1).sigmoid();
        var gamma = Scalars.Softplus(p.narrow(2, width + 2, 1)).PlusInPlace(1);
        var shift = p.narrow(2, width + 3, Shifts).softmax(2);

        var similarity = bmm(F.normalize(key, 2, 2, NormEpsilon), F.normalize(memory, 2, 2, NormEpsilon).transpose(1, 2));
        var content = (beta * similarity).softmax(2);
        var gated = lerp(previous, content, gate);
        Tensor? shifted = null;
        for (var j = 0; j < Shifts; j++)
        {
            var term = shift.narrow(2, j, 1) * gated.roll(j - shiftRange, 2);
            shifted = shifted is null ? term : shifted.Plus(term);
        }
        var sharpened = shifted!.Plus(1e-12).pow(gamma);
        return sharpened / sharpened.sum(2, keepdim: true);
    }
}
