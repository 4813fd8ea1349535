namespace MannLab.Testing;

/// <summary>A fresh folder for one test's files, removed afterwards. Open to other users, since a PostgreSQL server running as the postgres user may keep its data in it.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path, (UnixFileMode)Convert.ToInt32("755", 8));
    }

    public string Path { get; } = Directory.CreateTempSubdirectory("mannlab-test-").FullName;

    public string Sub(string relative) => System.IO.Path.Combine(Path, relative);

    public string Write(string relative, string text)
    {
        var file = Sub(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (UnauthorizedAccessException)
        {
            // files a server process (running as another user) created; the system's temp cleaner removes them
        }
    }
}
