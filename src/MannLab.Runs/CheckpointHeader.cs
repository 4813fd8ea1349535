using System.Text;
using System.Text.Json;

namespace MannLab.Runs;

/// <summary>
/// The head of a run's checkpoint file: a magic line, then which run and how far, as JSON. What
/// follows (the model's parameters, the optimiser's state) is Training's to write and read; the
/// header reads without torch.
/// </summary>
/// <param name="Spec">The run's resolved spec (canonical JSON): a checkpoint is self-contained.</param>
/// <param name="TrainedSeconds">Wall-clock seconds the run had trained when it was saved (0 in checkpoints from before it was kept).</param>
public sealed record CheckpointHeader(string RunId, long Episode, long Iteration, string Spec, double TrainedSeconds = 0)
{
    private static readonly byte[] Magic = "MANNLAB-CHECKPOINT-1\n"u8.ToArray();

    /// <summary>Reads only the header: which run and how far.</summary>
    public static CheckpointHeader Read(string file)
    {
        using var reader = Open(file, out var header);
        return header;
    }

    /// <summary>Opens a checkpoint and reads its header; the reader is left where the tensors begin.</summary>
    public static BinaryReader Open(string file, out CheckpointHeader header)
    {
        var reader = new BinaryReader(File.OpenRead(file), Encoding.UTF8);
        try
        {
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{file}: not a MannLab checkpoint");
            header = JsonSerializer.Deserialize<CheckpointHeader>(reader.ReadString()) ?? throw new InvalidDataException($"{file}: checkpoint header is empty");
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>Writes the magic line and the header; the tensors follow.</summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write(Magic);
        writer.Write(JsonSerializer.Serialize(this));
    }
}
