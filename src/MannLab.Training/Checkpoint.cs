using System.Text;
using System.Text.Json;
using MannLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// A run's checkpoint: the run id, the step, the model's parameters, the optimiser's state and a
/// persistent-memory MANN's carried memory, in one file written atomically (<see cref="SafeFile"/>),
/// so neither a crash nor a full disk leaves a torn one: the previous checkpoint stays. Files from
/// before the carried memory was stored end after the optimiser's state, and load as carrying none.
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
            WriteCarriedMemory(writer, (model as MannModel)?.CarriedMemory);
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
        var carried = ReadCarriedMemory(reader, model.parameters().First().device);
        if (carried is not null) ((MannModel)model).CarriedMemory = carried;
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

    private static void WriteCarriedMemory(BinaryWriter writer, MemoryState? carried)
    {
        var fields = carried?.Fields() ?? [];
        writer.Write(fields.Length);
        foreach (var field in fields)
        {
            writer.Write(field is not null);
            if (field is null) continue;
            using var cpu = field.cpu().contiguous();
            writer.Write((int)cpu.dtype);
            writer.Write(cpu.shape.Length);
            foreach (var size in cpu.shape) writer.Write(size);
            var bytes = cpu.bytes;
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    private static MemoryState? ReadCarriedMemory(BinaryReader reader, Device device)
    {
        if (reader.BaseStream.Position == reader.BaseStream.Length) return null; // an older checkpoint
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
