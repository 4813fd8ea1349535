using System.Text;

namespace MannLab.Runs;

/// <summary>A write that failed because the disk is full; the message names what could not be written.</summary>
public sealed class DiskFullException(string message, Exception cause) : IOException(message, cause)
{
    // .NET puts the errno in HResult on Linux: ENOSPC, EDQUOT.
    private const int NoSpace = 28, QuotaExceeded = 122;

    public static bool IsDiskFull(IOException e) => e.HResult is NoSpace or QuotaExceeded;
}

/// <summary>
/// Files written whole or not at all: when the disk fills (or the process dies) mid-write, the
/// file keeps its previous content rather than a torn one, and a full disk is reported naming the
/// file. Whole files go to a temporary file beside them that is then renamed into place (atomic
/// within a folder); appends are cut back to where they started.
/// </summary>
public static class SafeFile
{
    public static void Write(string file, byte[] bytes) => Replace(file, temp => File.WriteAllBytes(temp, bytes));

    public static void WriteText(string file, string text) => Replace(file, temp => File.WriteAllText(temp, text));

    /// <summary>A whole file streamed by <paramref name="write"/>, without holding it in memory.</summary>
    public static void Write(string file, Action<Stream> write) => Replace(file, temp =>
    {
        using var stream = File.Create(temp);
        write(stream);
    });

    public static void WriteLines(string file, IEnumerable<string> lines) => Replace(file, temp => File.WriteAllLines(temp, lines));

    /// <summary>Appends every line or none.</summary>
    public static void AppendLines(string file, IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line).Append('\n');
        using var stream = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0); // unbuffered: nothing pending to flush after a failure
        var start = stream.Length;
        try
        {
            stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }
        catch (Exception e)
        {
            stream.SetLength(start); // gives back what was written; shrinking needs no space
            if (e is IOException io && DiskFullException.IsDiskFull(io)) throw DiskFull(file, io);
            throw;
        }
    }

    private static void Replace(string file, Action<string> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        var temp = $"{file}.{Environment.ProcessId}.tmp"; // one per process: two writers never share one
        try
        {
            write(temp);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception e)
        {
            File.Delete(temp);
            if (e is IOException io && DiskFullException.IsDiskFull(io)) throw DiskFull(file, io);
            throw;
        }
    }

    private static DiskFullException DiskFull(string file, IOException e) =>
        new($"cannot write {file}: the disk is full; {(File.Exists(file) ? "its previous version is kept" : "nothing of it was written")}", e);
}
