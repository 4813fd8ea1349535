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

    /// <summary>
    /// Starts a held-out pass, which ends when the result is disposed. A persistent memory is not
    /// wiped between the pass's batches either: the first starts from the memory training carries,
    /// each next one from the state the previous one ended in, and the training's carried memory is
    /// left as it was, so evaluating does not change what training does next. A wiped memory is
    /// wiped as always.
    /// </summary>
    public abstract IDisposable HeldOutPass();

    /// <summary>One episode of the memory, stepped once per time step, in order.</summary>
    public abstract class Episode
    {
        /// <summary>Writes and reads from the controller's h_t; returns r_t [B, R W].</summary>
        public abstract Tensor Step(Tensor hidden);

        /// <summary>The state after the last step.</summary>
        public abstract MemoryState State { get; }

        /// <summary>Ends the episode; a persistent memory carries its state to the next batch (training's, or a held-out pass's).</summary>
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
    /// <summary>During a held-out pass of a persistent memory: the state its next batch starts from.</summary>
    private Dictionary<string, Tensor>? heldOut;

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

    public override IDisposable HeldOutPass()
    {
        if (!persistent) return new HeldOutEnd(this);
        if (heldOut is not null) throw new InvalidOperationException("a held-out pass is already running");
        heldOut = Snapshot(named_buffers().Where(b => b.name.StartsWith(CarriedPrefix, StringComparison.Ordinal))
            .Select(b => (b.name[CarriedPrefix.Length..], b.buffer)));
        return new HeldOutEnd(this);
    }

    /// <summary>Detached copies that outlive the caller's DisposeScope, to be disposed by <see cref="Release"/>.</summary>
    private static Dictionary<string, Tensor> Snapshot(IEnumerable<(string Name, Tensor Value)> state)
    {
        using var _ = no_grad();
        return state.ToDictionary(s => s.Name, s => s.Value.detach().clone().DetachFromDisposeScope());
    }

    private void Release()
    {
        foreach (var tensor in heldOut?.Values ?? Enumerable.Empty<Tensor>()) tensor.Dispose();
        heldOut = null;
    }

    private sealed class HeldOutEnd(ExternalMemory<TState> memory) : IDisposable
    {
        public void Dispose() => memory.Release();
    }

    /// <summary>
    /// The memory carried from the previous batch (training's, or the held-out pass's while one
    /// runs in eval mode), or null without one of this batch's size.
    /// </summary>
    private TState? CarriedFor(long batch)
    {
        if (!persistent) return null;
        Func<string, Tensor>? carried = training ? name => get_buffer(CarriedPrefix + name)!
            : heldOut is { } pass ? name => pass[name] : null;
        if (carried is null || carried(nameof(MemoryState.Memory)).shape[0] != batch) return null;
        // A copy: the carried state is replaced at the end of the batch, while backward still needs what it held.
        return FromNamed(name => carried(name).clone());
    }

    /// <summary>Ends a batch: training carries its state in the buffers, a held-out pass in its own copy.</summary>
    private void CarryOn(TState state)
    {
        if (!persistent) return;
        if (training) Carry(state.Named().ToDictionary(n => n.Name, n => n.Value));
        else if (heldOut is not null)
        {
            Release();
            heldOut = Snapshot(state.Named());
        }
    }

    private sealed class Stepper(ExternalMemory<TState> memory, TState state) : Episode
    {
        public override MemoryState State => state;

        public override Tensor Step(Tensor hidden)
        {
            (var read, state) = memory.Step(state, memory.head.call(hidden));
            return read.view(hidden.shape[0], memory.ReadWidth);
        }

        public override void End() => memory.CarryOn(state);
    }
}
