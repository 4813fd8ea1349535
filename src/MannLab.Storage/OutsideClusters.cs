using MannLab.Runs;

namespace MannLab.Storage;

/// <summary>A cluster kept under /var/lib/mannlab: its folder, whose it is (null for one made before
/// clusters noted it), whether that project is still there, its size, and its server's port if it runs.</summary>
public sealed record OutsideCluster(string Folder, string? Project, bool ProjectExists, long Bytes, int? Port)
{
    public string DataDirectory => Path.Combine(Folder, OutsideClusters.DataFolder);
}

/// <summary>
/// The clusters kept outside their projects: under root, a project the postgres user cannot enter
/// (one under /root) keeps its cluster in /var/lib/mannlab/&lt;project&gt;-&lt;hash&gt;/postgres instead of
/// its own .mannlab/postgres. They pile up, one per project, and outlive their projects; so each
/// notes its project's path beside it, which lets <c>mannlab db info</c> list them and
/// <c>mannlab db stop --remove</c> delete them.
/// </summary>
public static class OutsideClusters
{
    public const string Root = "/var/lib/mannlab";
    public const string DataFolder = "postgres";
    private const string ProjectNote = "project";

    /// <summary>The data directory of the project at <paramref name="home"/>, named after it and a hash of its path.</summary>
    public static string DataDirectoryFor(string home)
    {
        var full = Path.GetFullPath(home);
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(full)))[..12];
        return Path.Combine(Root, $"{Path.GetFileName(full)}-{key}", DataFolder);
    }

    /// <summary>The cluster folder holding <paramref name="dataDirectory"/>, or null if it is not a cluster kept here.</summary>
    public static string? FolderOf(string dataDirectory)
    {
        var full = Path.GetFullPath(dataDirectory);
        return Path.GetFileName(full) == DataFolder && Path.GetDirectoryName(Path.GetDirectoryName(full)) == Root ? Path.GetDirectoryName(full) : null;
    }

    /// <summary>Notes whose cluster this is, for a cluster kept here; written on every start, so clusters from before the note get one.</summary>
    public static void NoteProject(string dataDirectory, string home)
    {
        if (FolderOf(dataDirectory) is { } folder) SafeFile.WriteText(Path.Combine(folder, ProjectNote), Path.GetFullPath(home) + "\n");
    }

    /// <summary>Every cluster kept here, by folder.</summary>
    public static IReadOnlyList<OutsideCluster> List()
    {
        if (!Directory.Exists(Root)) return [];
        return [.. Directory.GetDirectories(Root).Order(StringComparer.Ordinal)
            .Where(folder => File.Exists(Path.Combine(folder, DataFolder, "PG_VERSION")))
            .Select(folder =>
            {
                var note = Path.Combine(folder, ProjectNote);
                var project = File.Exists(note) ? File.ReadAllText(note).Trim() : null;
                return new OutsideCluster(folder, project, project is not null && Directory.Exists(project), Size(folder),
                    ServerLock.Running(Path.Combine(folder, DataFolder))?.Port);
            })];
    }

    /// <summary>The bytes of the files under <paramref name="folder"/>, not following links (a tablespace's is elsewhere).</summary>
    public static long Size(string folder) => new DirectoryInfo(folder)
        .EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint })
        .Sum(f => f.Length);
}
