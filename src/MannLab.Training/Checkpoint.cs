using System.Text;
using System.Text.Json;
using MannLab.Models;
using MannLab.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// A run's checkpoint: the run id, the step, the model's state (with a persistent-memory MANN's
/// carried memory among its buffers) and the optimiser's state, in one file written atomically
/// (<see cref="SafeFile"/>), so neither a crash nor a full disk leaves a torn one: the previous
/// checkpoint stays. Files from before the carried memory was a buffer store it in a section of
/// its own after the optimiser's state (or, older still, not at all); they still load.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "MANNLAB-CHECKPOINT-1\n"u8.ToArray();

    /// <param name="Spec">The run's resolved spec (canonical JSON): a checkpoint is self-contained.</param>
    public sealed record Header(string RunId, long Episode, long Iteration, string Spec);

    public static void Save(string file, Header header, nn.Module model, optim.Optimizer optimizer)
    {
        var stream = new MemoryStream();
        stream.Write(Magic);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(JsonSerializer.Serialize(header));
            model.save(writer);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        }
        SafeFile.Write(file, stream.ToArray());
    }

    /// <summary>Reads only the header: which run and how far.</summary>
    public static Header ReadHeader(string file)
    {
        using var reader = Open(file);
        return ReadHeader(reader, file);
    }

    /// <summary>Restores the model and optimiser; the checkpoint must belong to <paramref name="runId"/>.</summary>
    public static Header Load(string file, string runId, nn.Module model, optim.Optimizer optimizer)
    {
        using var reader = Open(file);
        var header = ReadHeader(reader, file);
        if (header.RunId != runId)
            throw new InvalidOperationException($"{file}: the checkpoint belongs to run {header.RunId}, not {runId} (the spec changed); " +
                                                "use another output folder or remove the checkpoint");
        model.load(reader);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        if (ReadPreviousCarriedMemory(reader, model.parameters().First().device) is { } carried)
        {
            ((MannModel)model).Carry(carried);
            foreach (var field in carried.Fields()) field?.Dispose();
        }
        return header;
    }

    /// <summary>Restores only the model (for inspection), whatever run it belongs to.</summary>
    public static Header LoadModel(string file, nn.Module model)
    {
        using var reader = Open(file);
        var header = ReadHeader(reader, file);
        model.load(reader);
        return header;
    }

    /// <summary>The carried memory as checkpoints before it was a buffer stored it: every field of the state in order, absent ones flagged.</summary>
    private static MemoryState? ReadPreviousCarriedMemory(BinaryReader reader, Device device)
    {
        if (reader.BaseStream.Position == reader.BaseStream.Length) return null;
        var fields = new Tensor?[reader.ReadInt32()];
        for (var i = 0; i < fields.Length; i++)
        {
            if (!reader.ReadBoolean()) continue;
            var dtype = (ScalarType)reader.ReadInt32();
            var shape = new long[reader.ReadInt32()];
            for (var d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
            using var cpu = empty(shape, dtype);
            cpu.bytes = reader.ReadBytes(reader.ReadInt32());
            fields[i] = cpu.to(device, copy: true);
        }
        return fields.Length == 0 ? null : MemoryState.FromFields(fields);
    }

    private static BinaryReader Open(string file)
    {
        var reader = new BinaryReader(File.OpenRead(file), Encoding.UTF8);
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
        {
            reader.Dispose();
            throw new InvalidDataException($"{file}: not a MannLab checkpoint");
        }
        return reader;
    }

    private static Header ReadHeader(BinaryReader reader, string file) =>
        JsonSerializer.Deserialize<Header>(reader.ReadString()) ?? throw new InvalidDataException($"{file}: checkpoint header is empty");
}
