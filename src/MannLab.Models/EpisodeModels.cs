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

    /// <summary>The current name of a state entry that a checkpoint of an earlier layout stored as <paramref name="saved"/>.</summary>
    protected virtual string CurrentName(string saved) => saved;

    /// <summary>
    /// Loads the state <see cref="Module.save(BinaryReader)"/> wrote, in this layout or an earlier one
    /// (<see cref="CurrentName"/>). Every parameter must be there; a buffer may be missing (older
    /// checkpoints had none) and may have another shape (the carried memory's follows the batch).
    /// </summary>
    public override Module load(BinaryReader reader, bool strict = true, IList<string>? skip = null, Dictionary<string, bool>? loadedParameters = null)
    {
        var state = state_dict();
        var buffers = named_buffers().Select(b => b.name).ToHashSet();
        var unread = named_parameters().Select(p => p.name).ToHashSet();
        using var _ = no_grad();
        for (var (i, entries) = (0L, ReadCount(reader)); i < entries; i++)
        {
            var name = CurrentName(reader.ReadString());
            var target = state.GetValueOrDefault(name) ?? throw new InvalidDataException($"the model has no tensor named {name}");
            using var saved = TensorExtensionMethods.Load(reader);
            if (buffers.Contains(name))
            {
                using var onDevice = saved.to(target.device, copy: true);
                target.set_(onDevice);
            }
            else if (saved.shape.SequenceEqual(target.shape)) target.copy_(saved);
            else throw new InvalidDataException($"{name} is [{string.Join(", ", saved.shape)}] in the checkpoint, [{string.Join(", ", target.shape)}] in the model");
            unread.Remove(name);
        }
        if (unread.Count > 0) throw new InvalidDataException($"the checkpoint lacks {string.Join(", ", unread)}");
        return this;
    }

    /// <summary>The entry count, which TorchSharp writes as an unsigned LEB128 number (and keeps its reader internal).</summary>
    private static long ReadCount(BinaryReader reader)
    {
        long count = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = reader.ReadByte();
            count |= (long)(b & 0x7f) << shift;
            if (b < 0x80) return count;
        }
    }
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
/// A memory-augmented network (Santoro et al. 2016): a <see cref="Controller"/> whose input at step
/// t is [x_t, y_{t-1}, r_{t-1}], an external memory read and written through an
/// <see cref="IMemoryAccess"/>, and an output layer reading [h_t, r_t].
/// </summary>
public sealed class MannModel : EpisodeModel
{
    private readonly Controller controller;
    private readonly Linear accessHead, output;
    private readonly IMemoryAccess access;
    private readonly int readWidth;
    private readonly bool persistent;

    /// <param name="deferWeightGradient">False for the plain recurrence that the controller's faster backward is tested against.</param>
    public MannModel(int inputs, int outputs, ControllerKind controller, int hiddenUnits, int readHeads, int width,
        IMemoryAccess access, bool persistentMemory, bool deferWeightGradient = true) : base(nameof(MannModel))
    {
        readWidth = readHeads * width;
        this.access = access;
        persistent = persistentMemory;
        this.controller = Controller.Create(controller, inputs, hiddenUnits, readWidth, deferWeightGradient);
        accessHead = Linear(hiddenUnits, access.ControllerOutputs);
        output = Linear(hiddenUnits + readWidth, outputs);
        RegisterComponents();
        // With persistent memory, the state the next training batch starts from, as buffers so that
        // the model's state holds it: empty (a batch of 0) until the first batch ends.
        if (persistent)
            foreach (var (name, field) in Carried(access.Initial(0, CPU, ScalarType.Float32)))
                register_buffer(name, field.DetachFromDisposeScope(), persistent: true);
    }

    public override bool HasMemory => true;

    /// <summary>Each field a memory state has, with the name of the buffer that carries it.</summary>
    private static IEnumerable<(string Name, Tensor Field)> Carried(MemoryState state) =>
        MemoryState.FieldNames.Zip(state.Fields()).Where(f => f.Second is not null).Select(f => (BufferName(f.First), f.Second!));

    private static string BufferName(string field) => $"carried{field}";

    /// <summary>The memory carried from the previous training batch, or null without one of this batch's size.</summary>
    private MemoryState? CarriedFor(long batch)
    {
        if (!persistent || !training || get_buffer(BufferName(nameof(MemoryState.Memory)))!.shape[0] != batch) return null;
        // A copy: the buffers are replaced at the end of the batch, while backward still needs what they held.
        return MemoryState.FromFields([.. MemoryState.FieldNames.Select(f => get_buffer(BufferName(f))?.clone())]);
    }

    /// <summary>Makes <paramref name="state"/> the memory the next training batch starts from.</summary>
    public void Carry(MemoryState state)
    {
        if (!persistent) throw new InvalidOperationException("this MANN wipes its memory every episode: it carries none");
        using var _ = no_grad();
        foreach (var (name, field) in Carried(state))
        {
            using var detached = field.detach();
            get_buffer(name)!.set_(detached);
        }
    }

    public override Tensor forward(Tensor input) => Forward(input, null);

    /// <summary>Checkpoints from before the controller was a module name its weights without "controller.".</summary>
    protected override string CurrentName(string saved) =>
        saved == "recurrent" || saved.StartsWith("inputProjection.", StringComparison.Ordinal) ? $"controller.{saved}" : saved;

    public override Tensor Forward(Tensor input, MemoryTrace? trace)
    {
        long batch = input.shape[0], steps = input.shape[1];
        var recurrence = controller.Start(input);
        var state = CarriedFor(batch) ?? access.Initial(batch, input.device, input.dtype);
        var read = zeros(batch, readWidth, input.dtype, input.device);
        var hs = new Tensor[steps];
        var reads = new Tensor[steps];
        for (var t = 0; t < steps; t++)
        {
            var h = recurrence.Step(read);
            var (r, next) = access.Step(state, accessHead.call(h));
            state = next;
            read = r.view(batch, readWidth);
            hs[t] = h;
            reads[t] = read;
            trace?.Add(state);
        }
        if (persistent && training) Carry(state);
        return output.call(cat([stack(hs, 1), stack(reads, 1)], 2));
    }
}
