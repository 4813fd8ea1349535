using System.Runtime.InteropServices;
using MannLab.Storage;

namespace MannLab.Testing;

/// <summary>
/// The machine dies: every lab process killed at once, as a power cut does. That is a mannlab
/// process with everything it started, and the embedded PostgreSQL, which pg_ctl starts in a
/// session of its own and whose children each take one too, so no process group holds them all.
/// Every process is stopped (SIGSTOP) before any is killed, so none sees another die and reacts
/// (a training process checkpointing because its worker's pipe closed, a backend finishing its
/// transaction); processes forked meanwhile are found and stopped too.
/// </summary>
public static class Blackout
{
    private const int SigKill = 9, SigStop = 19;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    /// <summary>Kills <paramref name="root"/> and its descendants, and the server on <paramref name="dataDirectory"/> and its children.</summary>
    /// <returns>The processes killed.</returns>
    public static IReadOnlyList<int> Strike(int root, string dataDirectory)
    {
        var postmaster = ServerLock.Running(dataDirectory)?.Pid ?? throw new InvalidOperationException($"no server runs on {dataDirectory}");
        var stopped = new HashSet<int>();
        while (true)
        {
            var parents = Parents();
            var fresh = Family(parents, [root, postmaster]).Except(stopped).ToList();
            if (fresh.Count == 0) break;
            foreach (var pid in fresh) kill(pid, SigStop);
            stopped.UnionWith(fresh);
        }
        foreach (var pid in stopped) kill(pid, SigKill);
        return [.. stopped];
    }

    /// <summary>The roots and all their descendants.</summary>
    private static HashSet<int> Family(IReadOnlyDictionary<int, int> parents, IEnumerable<int> roots)
    {
        var family = roots.ToHashSet();
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (pid, parent) in parents)
                if (family.Contains(parent) && family.Add(pid)) grew = true;
        }
        return family;
    }

    /// <summary>Every live process's parent, from /proc/PID/stat (the field after the command, which may hold spaces and parentheses).</summary>
    private static Dictionary<int, int> Parents()
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue; // ended meanwhile
            }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[0] != "Z") parents[pid] = int.Parse(fields[1]);
        }
        return parents;
    }

    /// <summary>Whether a process is gone (or a zombie, which holds no socket, file or lock).</summary>
    public static bool IsDead(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2] == 'Z';
        }
        catch (IOException)
        {
            return true;
        }
    }
}
