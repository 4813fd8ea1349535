using System.Security.Cryptography;
using System.Text;

namespace MannLab.Data;

/// <summary>
/// The preprocessed arrays of a source, in one file keyed by the source's content hash and the
/// preprocessing parameters. A file whose key differs (stale) or whose checksum fails (corrupt or
/// truncated) is never trusted: the caller rebuilds it.
/// </summary>
public static class GlyphCache
{
    private static readonly byte[] Magic = "MANNLAB-GLYPHS-1\n"u8.ToArray();

    /// <summary>$MANNLAB_CACHE, else $XDG_CACHE_HOME/mannlab, else ~/.cache/mannlab.</summary>
    public static string Folder =>
        Environment.GetEnvironmentVariable("MANNLAB_CACHE") is { Length: > 0 } dir ? dir
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "mannlab");

    public enum State { Missing, Valid, Stale, Corrupt }

    /// <summary>Loads the cache if it holds exactly <paramref name="key"/>; says why not otherwise.</summary>
    public static (GlyphSet? Set, State State) TryLoad(string file, string key)
    {
        if (!File.Exists(file)) return (null, State.Missing);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(file); }
        catch (IOException) { return (null, State.Corrupt); }
        if (bytes.Length < Magic.Length + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return (null, State.Corrupt);
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32))) return (null, State.Corrupt);
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, Magic.Length, body.Length - Magic.Length), Encoding.UTF8);
            if (reader.ReadString() != key) return (null, State.Stale);
            var source = reader.ReadString();
            var synthetic = reader.ReadBoolean();
            var size = reader.ReadInt32();
            var count = reader.ReadInt32();
            var characters = new List<Character>(count);
            for (var i = 0; i < count; i++)
                characters.Add(new Character(reader.ReadString(), reader.ReadString(), reader.ReadString(), reader.ReadInt32(), reader.ReadInt32()));
            var pixels = new float[reader.ReadInt32()];
            var raw = reader.ReadBytes(pixels.Length * sizeof(float));
            if (raw.Length != pixels.Length * sizeof(float)) return (null, State.Corrupt);
            Buffer.BlockCopy(raw, 0, pixels, 0, raw.Length);
            return (new GlyphSet(source, synthetic, size, characters, pixels), State.Valid);
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or IOException)
        {
            return (null, State.Corrupt);
        }
    }

    /// <summary>Writes atomically: a temporary file, then a rename.</summary>
    public static void Save(string file, string key, GlyphSet set)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var stream = new MemoryStream();
        stream.Write(Magic);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(key);
            writer.Write(set.Source);
            writer.Write(set.IsSynthetic);
            writer.Write(set.ImageSize);
            writer.Write(set.Characters.Count);
            foreach (var c in set.Characters)
            {
                writer.Write(c.Subset); writer.Write(c.Alphabet); writer.Write(c.Name);
                writer.Write(c.FirstImage); writer.Write(c.Drawings);
            }
            writer.Write(set.Pixels.Length);
            var raw = new byte[set.Pixels.Length * sizeof(float)];
            Buffer.BlockCopy(set.Pixels, 0, raw, 0, raw.Length);
            writer.Write(raw);
        }
        stream.Write(SHA256.HashData(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
        var temp = $"{file}.{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temp, stream.ToArray());
        File.Move(temp, file, overwrite: true);
    }
}
