using MannLab.Spec;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MannLab.Models;

/// <summary>Per-step memory weights of one episode (the batch's first), for inspection.</summary>
public sealed class MemoryTrace
{
    /// <summary>Per step, [R, N] read weights, [R, N] write weights and [N] usage (LRUA only).</summary>
    public List<(float[,] Read, float[,] Write, float[]? Usage)> Steps { get; } = [];

    public void Add(MemoryState state)
    {
        static float[,] Matrix(Tensor t)
        {
            using var first = t[0].cpu();
            var (rows, columns) = ((int)first.shape[0], (int)first.shape[1]);
            var flat = first.data<float>().ToArray();
            var result = new float[rows, columns];
            Buffer.BlockCopy(flat, 0, result, 0, flat.Length * sizeof(float));
            return result;
        }
        using var usage = state.Usage?[0].cpu();
        Steps.Add((Matrix(state.ReadWeights), Matrix(state.WriteWeights), usage?.data<float>().ToArray()));
    }
}

/// <summary>
/// A model of the one-shot task: input [B, T, pixels + label width] (x_t and y_{t-1}), output
/// logits [B, T, outputs] (classes for one-hot labels; 5 x 5 for string labels).
/// </summary>
public abstract class EpisodeModel(string name) : Module<Tensor, Tensor>(name)
{
    /// <summary>Runs the episode, recording the first episode's memory weights where the model has a memory.</summary>
    public virtual Tensor Forward(Tensor input, MemoryTrace? trace) => forward(input);

    public abstract bool HasMemory { get; }
}

/// <summary>The paper's lower baseline: an MLP on [x_t, y_{t-1}] alone, with no memory of earlier steps.</summary>
public sealed class FeedForwardModel : EpisodeModel
{
    private readonly Linear hidden, output;

    public FeedForwardModel(int inputs, int hiddenUnits, int outputs) : base(nameof(FeedForwardModel))
    {
        hidden = Linear(inputs, hiddenUnits);
        output = Linear(hiddenUnits, outputs);
        RegisterComponents();
    }

    public override bool HasMemory => false;

    public override Tensor forward(Tensor input) => output.call(functional.relu(hidden.call(input)));
}

/// <summary>An LSTM over the sequence, with the fused sequence kernel (the recurrence needs nothing else).</summary>
public sealed class LstmModel : EpisodeModel
{
    private readonly LSTM lstm;
    private readonly Linear output;

    public LstmModel(int inputs, int hiddenUnits, int outputs) : base(nameof(LstmModel))
    {
        lstm = LSTM(inputs, hiddenUnits, batchFirst: true);
        output = Linear(hiddenUnits, outputs);
        RegisterComponents();
    }

    public override bool HasMemory => false;

    public override Tensor forward(Tensor input)
    {
        var (sequence, _, _) = lstm.call(input);
        return output.call(sequence);
    }
}

/// <summary>
/// A memory-augmented network (Santoro et al. 2016): a controller (LSTM or feed-forward) whose
/// input at step t is [x_t, y_{t-1}, r_{t-1}], an external memory read and written through an
/// <see cref="IMemoryAccess"/>, and an output layer reading [h_t, r_t].
/// The input part of the controller's first layer is computed for all steps in one GEMM before
/// the recurrence; only the part from [r_{t-1}, h_{t-1}] is done step by step.
/// </summary>
public sealed class MannModel : EpisodeModel
{
    private readonly Linear inputProjection, accessHead, output;
    private readonly Parameter recurrent;
    private readonly IMemoryAccess access;
    private readonly bool lstm;
    private readonly int hiddenUnits, readWidth;
    private readonly bool persistent;
    private MemoryState? carried;

    public MannModel(int inputs, int outputs, ControllerKind controller, int hiddenUnits, int readHeads, int width,
        IMemoryAccess access, bool persistentMemory) : base(nameof(MannModel))
    {
        lstm = controller.IsLstmController;
        this.hiddenUnits = hiddenUnits;
        readWidth = readHeads * width;
        this.access = access;
        persistent = persistentMemory;
        var gates = lstm ? 4 * hiddenUnits : hiddenUnits;
        inputProjection = Linear(inputs, gates);
        // Weights on [r_{t-1}, h_{t-1}] (h only for an LSTM controller); PyTorch's LSTM initialisation.
        var bound = 1.0 / Math.Sqrt(hiddenUnits);
        recurrent = Parameter(empty(gates, readWidth + (lstm ? hiddenUnits : 0)));
        using (no_grad()) init.uniform_(recurrent, -bound, bound);
        accessHead = Linear(hiddenUnits, access.ControllerOutputs);
        output = Linear(hiddenUnits + readWidth, outputs);
        RegisterComponents();
    }

    public override bool HasMemory => true;

    /// <summary>
    /// With persistent memory, the memory the next training batch starts from (null before the
    /// first batch, and always without persistent memory). A checkpoint stores it, so a resumed run
    /// continues with the memory it had. Setting it takes ownership of the tensors.
    /// </summary>
    public MemoryState? CarriedMemory
    {
        get => carried;
        set
        {
            if (!persistent && value is not null) throw new InvalidOperationException("this MANN wipes its memory every episode: it carries none");
            carried?.Tensors().ToList().ForEach(t => t.Dispose());
            carried = value;
            foreach (var t in carried?.Tensors() ?? []) t.DetachFromDisposeScope();
        }
    }

    public override Tensor forward(Tensor input) => Forward(input, null);

    protected override void Dispose(bool disposing)
    {
        if (disposing) CarriedMemory = null;
        base.Dispose(disposing);
    }

    public override Tensor Forward(Tensor input, MemoryTrace? trace)
    {
        long batch = input.shape[0], steps = input.shape[1];
        var log = new StepInputs(recurrent.shape[1]);
        // [B, T, gates]: one GEMM for every step; the recurrent weight's gradient comes back through it.
        var projected = DeferredWeightGradient.Apply(inputProjection.call(input), recurrent, log);
        var state = persistent && training && carried is { } c && c.Memory.shape[0] == batch ? c : access.Initial(batch, input.device, input.dtype);
        var read = zeros(batch, readWidth, input.dtype, input.device);
        var h = zeros(batch, hiddenUnits, input.dtype, input.device);
        var cell = zeros(batch, hiddenUnits, input.dtype, input.device);
        var hs = new Tensor[steps];
        var reads = new Tensor[steps];
        var weights = recurrent.detach().t();
        // One unbind, not a select per step: each select's backward would build a full [B, T, gates]
        // gradient, and autograd would add T of them up; unbind's backward stacks the steps once.
        var perStep = projected.unbind(1);
        var split = new long[] { 3 * hiddenUnits, hiddenUnits };
        for (var t = 0; t < steps; t++)
        {
            var x = perStep[t];
            if (lstm)
            {
                var stepInput = cat([read, h], 1);
                log.Inputs.Add(stepInput.detach());
                // Split, not narrow, for the same reason as unbind: one backward node, no zero-filled copies.
                var parts = addmm(x, stepInput, weights, 1, 1).split(split, 1);
                var ifo = parts[0].sigmoid().chunk(3, 1);
                var g = parts[1].tanh();
                // Gate order i, f, o, g: c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
                cell = addcmul(ifo[1] * cell, ifo[0], g, Scalars.One);
                h = ifo[2] * cell.tanh();
            }
            else
            {
                log.Inputs.Add(read.detach());
                h = functional.relu(addmm(x, read, weights, 1, 1));
            }
            var (r, next) = access.Step(state, accessHead.call(h));
            state = next;
            read = r.view(batch, readWidth);
            hs[t] = h;
            reads[t] = read;
            trace?.Add(state);
        }
        if (persistent && training) CarriedMemory = state.Detached();
        return output.call(cat([stack(hs, 1), stack(reads, 1)], 2));
    }
}
