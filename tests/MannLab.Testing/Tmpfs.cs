namespace MannLab.Testing;

/// <summary>
/// A small disk of the test's own: a tmpfs of a given size mounted on a fresh folder, that the test
/// fills to leave exactly as much room as it wants. Disposing unmounts it and removes the folder.
/// Mounting needs root (CAP_SYS_ADMIN): without it creation throws saying so.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempFolder _mountPoint;

    private Tmpfs(TempFolder mountPoint) => _mountPoint = mountPoint;

    public string Path => _mountPoint.Path;

    private string Filler => _mountPoint.Sub(".filler");

    /// <param name="owner">The user to own the disk's root (PostgreSQL wants a tablespace's folder its own); root by default.</param>
    public static async Task<Tmpfs> MountAsync(long bytes, string? owner = null)
    {
        var options = owner is null ? $"size={bytes},mode=0755"
            : $"size={bytes},mode=0700,uid={(await Must("id", "-u", owner)).Out.Trim()},gid={(await Must("id", "-g", owner)).Out.Trim()}";
        var folder = new TempFolder();
        var mount = await Command.RunAsync(Timeout, "mount", "-t", "tmpfs", "-o", options, "tmpfs", folder.Path);
        if (mount.Succeeded) return new Tmpfs(folder);
        folder.Dispose();
        throw new InvalidOperationException($"mounting a tmpfs needs root (CAP_SYS_ADMIN): mount -t tmpfs -o {options} tmpfs {folder.Path}: {mount.Err.Trim()}");
    }

    /// <summary>Bytes free.</summary>
    public long Available => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Takes all the room but <paramref name="leaving"/> bytes (rounded up to a page) with a file of zeros.</summary>
    public void Fill(long leaving)
    {
        var page = Environment.SystemPageSize;
        var chunk = new byte[1 << 20];
        using var filler = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
        // tmpfs keeps what is written, not what is reserved: the zeros must be written.
        for (var left = (Available - leaving) / page * page; left > 0; left -= chunk.Length)
            filler.Write(chunk, 0, (int)Math.Min(left, chunk.Length));
    }

    /// <summary>Gives back the room <see cref="Fill"/> took.</summary>
    public void Empty() => File.Delete(Filler);

    public void Dispose()
    {
        // A process may still hold a file there (a server's tablespace): detach the disk anyway, it goes when they let go.
        var umount = Command.RunAsync(Timeout, "umount", "--lazy", Path).GetAwaiter().GetResult();
        if (!umount.Succeeded) throw new InvalidOperationException($"umount --lazy {Path}: {umount.Err.Trim()}");
        _mountPoint.Dispose();
    }

    private static async Task<Command.Result> Must(params string[] command)
    {
        var result = await Command.RunAsync(Timeout, command);
        return result.Succeeded ? result : throw new InvalidOperationException($"{string.Join(' ', command)}: {result.Err.Trim()}");
    }
}
