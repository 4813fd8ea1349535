using System.Text;
using MannLab.Models;
using MannLab.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// A run's checkpoint: its header (<see cref="CheckpointHeader"/>: the run id, the step), the
/// model's state (with a persistent-memory MANN's carried memory among its buffers) and the
/// optimiser's state, in one file written atomically (<see cref="SafeFile"/>), so neither a crash
/// nor a full disk leaves a torn one: the previous checkpoint stays. Files from before the carried
/// memory was a buffer store it in a section of its own after the optimiser's state (or, older
/// still, not at all); they still load.
/// </summary>
public static class Checkpoint
{
    public static void Save(string file, CheckpointHeader header, nn.Module model, optim.Optimizer optimizer)
    {
        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            header.WriteTo(writer);
            model.save(writer);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        }
        SafeFile.Write(file, stream.ToArray());
    }

    /// <summary>Restores the model and optimiser; the checkpoint must belong to <paramref name="runId"/>.</summary>
    public static CheckpointHeader Load(string file, string runId, nn.Module model, optim.Optimizer optimizer)
    {
        using var reader = CheckpointHeader.Open(file, out var header);
        if (header.RunId != runId)
            throw new InvalidOperationException($"{file}: the checkpoint belongs to run {header.RunId}, not {runId} (the spec changed); " +
                                                "use another output folder or remove the checkpoint");
        model.load(reader);
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        if (ReadPreviousCarriedMemory(reader, model.parameters().First().device) is { Count: > 0 } carried)
        {
            if (model is not MannModel mann) throw new InvalidDataException($"{file}: it carries a memory, and the model has none");
            mann.Memory.Carry(carried);
            foreach (var field in carried.Values) field.Dispose();
        }
        return header;
    }

    /// <summary>Restores only the model (for inspection), whatever run it belongs to.</summary>
    public static CheckpointHeader LoadModel(string file, nn.Module model)
    {
        using var reader = CheckpointHeader.Open(file, out var header);
        model.load(reader);
        return header;
    }

    /// <summary>The fields of the one memory state that LRUA and NTM shared before, in its order; NTM's had the first three.</summary>
    private static readonly string[] PreviousStateFields = ["Memory", "ReadWeights", "WriteWeights", "Usage", "LeastUsed", "Keep"];

    /// <summary>The carried memory as checkpoints before it was a buffer stored it: every field of the state in order, absent ones flagged.</summary>
    private static Dictionary<string, Tensor>? ReadPreviousCarriedMemory(BinaryReader reader, Device device)
    {
        if (reader.BaseStream.Position == reader.BaseStream.Length) return null;
        var fields = new Dictionary<string, Tensor>();
        var count = reader.ReadInt32();
        if (count != 0 && count != PreviousStateFields.Length) throw new InvalidDataException($"the carried memory has {count} fields, not {PreviousStateFields.Length}");
        for (var i = 0; i < count; i++)
        {
            if (!reader.ReadBoolean()) continue;
            var dtype = (ScalarType)reader.ReadInt32();
            var shape = new long[reader.ReadInt32()];
            for (var d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
            using var cpu = empty(shape, dtype);
            cpu.bytes = reader.ReadBytes(reader.ReadInt32());
            fields[PreviousStateFields[i]] = cpu.to(device, copy: true);
        }
        return fields;
    }
}
