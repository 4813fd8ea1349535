using MannLab.Data;
using MannLab.Models.Fused;
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
    /// <summary>
    /// What training minimises and evaluation reports: by default the cross-entropy of the logits
    /// over every step (Scoring.Loss); a model with another objective overrides it.
    /// </summary>
    public virtual Tensor Loss(Tensor input, Tensor logits, Tensor targets, LabelCodec codec) => Scoring.Loss(logits, targets, codec);

    /// <summary>
    /// Starts a pass over held-out episodes, ended by disposing the result: a model that carries
    /// state from batch to batch (persistent memory) carries it within the pass, from where training
    /// is, and leaves training's as it was. For every other model, nothing.
    /// </summary>
    public virtual IDisposable HeldOutPass() => NothingCarried.Instance;

    private sealed class NothingCarried : IDisposable
    {
        public static readonly NothingCarried Instance = new();
        public void Dispose() { }
    }

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

    public override Tensor forward(Tensor input)
    {
        var (sequence, _, _) = lstm.call(input);
        return output.call(sequence);
    }
}

/// <summary>
/// A memory-augmented network (Santoro et al. 2016, section 3): at step t the <see cref="Controller"/>
/// reads [x_t, y_{t-1}] and r_{t-1} and emits h_t; the <see cref="ExternalMemory"/> is written and
/// read from h_t, giving r_t; the output layer reads [h_t, r_t].
/// </summary>
public sealed class MannModel : EpisodeModel
{
    private readonly Controller controller;
    private readonly ExternalMemory memory;
    private readonly Linear output;

    public MannModel(Controller controller, ExternalMemory memory, int outputs) : base(nameof(MannModel))
    {
        this.controller = controller;
        this.memory = memory;
        output = Linear(controller.HiddenUnits + memory.ReadWidth, outputs);
        RegisterComponents();
    }

    public ExternalMemory Memory => memory;

    /// <summary>
    /// Whether forward runs the fused recurrence where it applies (<see cref="LruaRecurrence.TryApply"/>);
    /// false for the modules' path, the reference it is tested against.
    /// </summary>
    public bool Fused { get; set; } = true;

    /// <summary>How many threads the fused recurrence splits a batch over: torch's thread count unless set.</summary>
    public int? FusedThreads { get; set; }

    public override Tensor forward(Tensor input) => Run(input, null);

    public override IDisposable HeldOutPass() => memory.HeldOutPass();

    /// <summary>forward, recording the first episode's memory weights step by step.</summary>
    public Tensor Traced(Tensor input, MemoryTrace trace) => Run(input, trace);

    private Tensor Run(Tensor input, MemoryTrace? trace)
    {
        if (trace is null && Fused && LruaRecurrence.TryApply(controller, memory, input, FusedThreads ?? get_num_threads()) is { } fused)
            return output.call(fused);
        long batch = input.shape[0], steps = input.shape[1];
        var recurrence = controller.Start(input);
        var episode = memory.Start(batch, input.device, input.dtype);
        var read = zeros(batch, memory.ReadWidth, input.dtype, input.device);
        var hs = new Tensor[steps];
        var reads = new Tensor[steps];
        for (var t = 0; t < steps; t++)
        {
            hs[t] = recurrence.Step(read);
            reads[t] = read = episode.Step(hs[t]);
            trace?.Add(episode.State);
        }
        episode.End();
        return output.call(cat([stack(hs, 1), stack(reads, 1)], 2));
    }

    /// <summary>
    /// Names in checkpoints from before the controller and the memory were modules: the controller's
    /// weights at the top, the memory's head as "accessHead", the carried memory on the model.
    /// </summary>
    protected override string CurrentName(string saved) => saved switch
    {
        "recurrent" => "controller.recurrent",
        _ when saved.StartsWith("inputProjection.", StringComparison.Ordinal) => $"controller.{saved}",
        _ when saved.StartsWith("accessHead.", StringComparison.Ordinal) => $"memory.head.{saved["accessHead.".Length..]}",
        _ when saved.StartsWith("carried", StringComparison.Ordinal) => $"memory.{saved}",
        _ => saved,
    };
}
