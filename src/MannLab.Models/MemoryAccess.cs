using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>The external memory and the addressing weights that one step hands to the next.</summary>
/// <param name="Memory">[B, N, W]: N slots of width W.</param>
/// <param name="ReadWeights">[B, R, N]: w^r of the step that produced this state.</param>
/// <param name="WriteWeights">[B, R, N]: w^w of the step that produced this state.</param>
/// <param name="Usage">[B, N]: LRUA's usage weights w^u; null for NTM access.</param>
/// <param name="LeastUsed">[B, R, N] (per-head rule) or [B, 1, N] (literal rule: the same for every head, broadcast): w^lu from this step's usage; null for NTM.</param>
/// <param name="Keep">[B, N]: 0 at the least-used slot (from this step's usage), which the next step zeroes before writing; null for NTM.</param>
public sealed record MemoryState(Tensor Memory, Tensor ReadWeights, Tensor WriteWeights, Tensor? Usage, Tensor? LeastUsed, Tensor? Keep)
{
    /// <summary>Every field in declaration order, absent ones as null.</summary>
    public Tensor?[] Fields() => [Memory, ReadWeights, WriteWeights, Usage, LeastUsed, Keep];

    /// <summary>The names of <see cref="Fields"/>, in the same order.</summary>
    public static readonly string[] FieldNames = [nameof(Memory), nameof(ReadWeights), nameof(WriteWeights), nameof(Usage), nameof(LeastUsed), nameof(Keep)];

    public static MemoryState FromFields(IReadOnlyList<Tensor?> fields) => fields.Count == 6
        ? new(fields[0]!, fields[1]!, fields[2]!, fields[3], fields[4], fields[5])
        : throw new ArgumentException($"a memory state has 6 fields, not {fields.Count}", nameof(fields));
}

/// <summary>How a MANN's controller reads and writes its memory, one step at a time.</summary>
public interface IMemoryAccess
{
    /// <summary>How many values the controller emits for this access each step.</summary>
    int ControllerOutputs { get; }

    MemoryState Initial(long batch, Device device, ScalarType dtype);

    /// <summary>One step: from the controller's emitted values, write, then read. Returns r_t [B, R, W].</summary>
    (Tensor Read, MemoryState Next) Step(MemoryState state, Tensor controllerOutput);
}
