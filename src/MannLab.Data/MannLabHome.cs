namespace MannLab.Data;

/// <summary>Where MannLab's own folders are: $MANNLAB_HOME, else the nearest folder above the
/// working directory (or the program) that holds MannLab.sln, else the working directory.</summary>
public static class MannLabHome
{
    public static string Path
    {
        get
        {
            if (Environment.GetEnvironmentVariable("MANNLAB_HOME") is { Length: > 0 } home) return System.IO.Path.GetFullPath(home);
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(System.IO.Path.Combine(dir.FullName, "MannLab.sln"))) return dir.FullName;
            return Environment.CurrentDirectory;
        }
    }
}
