using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MannLab.Models;

/// <summary>What one step of a memory hands to the next: the memory matrix and the step's addressing weights.</summary>
/// <param name="Memory">M_t, [B, N, W]: N slots of width W.</param>
/// <param name="ReadWeights">w^r_t, [B, R, N].</param>
/// <param name="WriteWeights">w^w_t, [B, R, N].</param>
public abstract record MemoryState(Tensor Memory, Tensor ReadWeights, Tensor WriteWeights)
{
    /// <summary>LRUA's usage weights w^u_t [B, N], which the memory picture shows; none for NTM access.</summary>
    public virtual Tensor? Usage => null;

    /// <summary>Every tensor of the state, named: the carried memory's buffers hold them under these names.</summary>
    public virtual IEnumerable<(string Name, Tensor Value)> Named() =>
        [(nameof(Memory), Memory), (nameof(ReadWeights), ReadWeights), (nameof(WriteWeights), WriteWeights)];
}

/// <summary>
/// A MANN's external memory (Santoro et al. 2016, section 3): a head (a Linear on the controller's
/// h_t) emits this step's keys and gates, the memory is written and read, and r_t goes back to the
/// controller and to the output layer.
/// </summary>
public abstract class ExternalMemory : Module
{
    protected ExternalMemory(string name, int heads, int width) : base(name) => ReadWidth = heads * width;

    /// <summary>The width of r_t: every read head's W values.</summary>
    public int ReadWidth { get; }

    /// <summary>How many values the head emits each step.</summary>
    public abstract long HeadOutputs { get; }

    /// <summary>Starts an episode of <paramref name="batch"/> episodes: from the carried memory when there is one (<see cref="ExternalMemory{TState}"/>), else wiped.</summary>
    public abstract Episode Start(long batch, Device device, ScalarType dtype);

    /// <summary>Makes the named state (as a checkpoint holds it) the memory the next training batch starts from.</summary>
    public abstract void Carry(IReadOnlyDictionary<string, Tensor> state);

    /// <summary>One episode of the memory, stepped once per time step, in order.</summary>
    public abstract class Episode
    {
        /// <summary>Writes and reads from the controller's h_t; returns r_t [B, R W].</summary>
        public abstract Tensor Step(Tensor hidden);

        /// <summary>The state after the last step.</summary>
        public abstract MemoryState State { get; }

        /// <summary>Ends the episode; a persistent memory in training carries its state to the next batch.</summary>
        public abstract void End();
    }
}

/// <summary>
/// A memory whose steps hand on a <typeparamref name="TState"/>. With persistent memory (the
/// paper's section 4.3: not wiped between episodes) the state a training batch ends in is carried
/// to the next as registered buffers, so the model's state (and so a checkpoint) holds it.
/// </summary>
public abstract class ExternalMemory<TState> : ExternalMemory where TState : MemoryState
{
    private const string CarriedPrefix = "carried";
    private readonly Linear head;
    private readonly bool persistent;

    protected ExternalMemory(string name, int hiddenUnits, int heads, int width, long headOutputs, bool persistent) : base(name, heads, width)
    {
        HeadOutputs = headOutputs;
        this.persistent = persistent;
        head = Linear(hiddenUnits, headOutputs);
    }

    public sealed override long HeadOutputs { get; }

    /// <summary>The head's weight [O, H] and bias [O], for a fused recurrence that applies it itself.</summary>
    internal (Tensor Weight, Tensor Bias) HeadParameters => (head.weight!, head.bias!);

    protected bool Persistent => persistent;

    /// <summary>The wiped memory of an episode.</summary>
    public abstract TState Initial(long batch, Device device, ScalarType dtype);

    /// <summary>One step, from what the head emitted [B, HeadOutputs]: write, then read. Returns r_t [B, R, W].</summary>
    public abstract (Tensor Read, TState Next) Step(TState state, Tensor emitted);

    /// <summary>The state whose <see cref="MemoryState.Named"/> tensors <paramref name="field"/> gives by name.</summary>
    protected abstract TState FromNamed(Func<string, Tensor> field);

    /// <summary>Registers the head and, with persistent memory, the carried state: empty (a batch of 0) until the first batch ends. Call at the end of the constructor.</summary>
    protected void Register()
    {
        RegisterComponents();
        if (!persistent) return;
        foreach (var (name, value) in Initial(0, CPU, ScalarType.Float32).Named())
            register_buffer(CarriedPrefix + name, value.DetachFromDisposeScope(), persistent: true);
    }

    public override Episode Start(long batch, Device device, ScalarType dtype) => new Stepper(this, CarriedFor(batch) ?? Initial(batch, device, dtype));

    public override void Carry(IReadOnlyDictionary<string, Tensor> state)
    {
        if (!persistent) throw new InvalidOperationException("this memory is wiped every episode: it carries none");
        using var _ = no_grad();
        foreach (var (name, value) in state)
        {
            using var detached = value.detach();
            (get_buffer(CarriedPrefix + name) ?? throw new InvalidDataException($"the memory carries no {name}")).set_(detached);
        }
    }

    /// <summary>The memory carried from the previous training batch, or null without one of this batch's size.</summary>
    private TState? CarriedFor(long batch)
    {
        if (!persistent || !training || get_buffer(CarriedPrefix + nameof(MemoryState.Memory))!.shape[0] != batch) return null;
        // A copy: the buffers are replaced at the end of the batch, while backward still needs what they held.
        return FromNamed(name => get_buffer(CarriedPrefix + name)!.clone());
    }

    private sealed class Stepper(ExternalMemory<TState> memory, TState state) : Episode
    {
        public override MemoryState State => state;

        public override Tensor Step(Tensor hidden)
        {
            (var read, state) = memory.Step(state, memory.head.call(hidden));
            return read.view(hidden.shape[0], memory.ReadWidth);
        }

        public override void End()
        {
            if (memory.persistent && memory.training) memory.Carry(state.Named().ToDictionary(n => n.Name, n => n.Value));
        }
    }
}
