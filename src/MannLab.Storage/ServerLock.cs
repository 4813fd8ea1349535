namespace MannLab.Storage;

/// <summary>
/// Whether a PostgreSQL server runs on a data directory, from its postmaster.pid, and whether that
/// file is stale. After the machine dies the file outlives its server, its PID may by now belong to
/// an unrelated process (even one of the postgres user's, and PostgreSQL then refuses to start:
/// "lock file already exists"), and its port to another program (a connection there reaches a
/// stranger). So a server counts as running only if the file's PID is a live process working in a
/// folder whose postmaster.pid reads the same: a postmaster works in its data directory, and
/// comparing through /proc/PID/cwd holds under symlinks and bind mounts, where paths differ.
/// </summary>
public static class ServerLock
{
    /// <summary>A live server: its postmaster's PID and its port.</summary>
    public sealed record Server(int Pid, int Port);

    private const string FileName = "postmaster.pid";

    /// <summary>postmaster.pid's PID (line 1) and port (line 4), or null if the file is too short or torn to say.</summary>
    public static Server? Parse(IReadOnlyList<string> lines) =>
        lines.Count >= 4 && int.TryParse(lines[0], out var pid) && int.TryParse(lines[3], out var port) ? new Server(pid, port) : null;

    /// <summary>The server running on <paramref name="dataDirectory"/>, or null if none is.</summary>
    public static Server? Running(string dataDirectory)
    {
        var text = Read(Path.Combine(dataDirectory, FileName));
        if (text is null || Parse(text.Split('\n')) is not { } server) return null;
        return Read($"/proc/{server.Pid}/cwd/{FileName}") == text ? server : null;
    }

    /// <summary>
    /// Removes what a server that is gone left behind: postmaster.pid and the unix sockets and their
    /// locks. Only once <see cref="Running"/> said no server runs: these files are its locks.
    /// </summary>
    /// <returns>Whether there was a stale postmaster.pid: the server did not stop cleanly.</returns>
    public static bool ClearStale(string dataDirectory)
    {
        var lockFile = Path.Combine(dataDirectory, FileName);
        var stale = File.Exists(lockFile);
        File.Delete(lockFile);
        foreach (var socket in Directory.EnumerateFileSystemEntries(dataDirectory, ".s.PGSQL.*")) File.Delete(socket);
        return stale;
    }

    /// <summary>A file's text, or null if it cannot be read: missing, or under /proc a process that is gone, a zombie, or another user's.</summary>
    private static string? Read(string file)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
