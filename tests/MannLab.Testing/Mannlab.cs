using System.Diagnostics;

namespace MannLab.Testing;

/// <summary>Runs the built <c>mannlab</c> (next to the test assembly) as a real process, as a user would.</summary>
public static class Mannlab
{
    public sealed record Result(int ExitCode, string Out, string Err);

    /// <summary>The repository the tests were built from: the folder above the test assembly that holds MannLab.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepository(new DirectoryInfo(AppContext.BaseDirectory));

    private static string FindRepository(DirectoryInfo? folder) =>
        folder is null ? throw new InvalidOperationException("MannLab.sln not found above " + AppContext.BaseDirectory)
        : File.Exists(Path.Combine(folder.FullName, "MannLab.sln")) ? folder.FullName : FindRepository(folder.Parent);

    /// <summary>The start info for <c>mannlab ARGS</c> in <paramref name="workingDirectory"/>, with its own data cache there.</summary>
    public static ProcessStartInfo Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MANNLAB_CACHE"] = Path.Combine(workingDirectory, ".mannlab-cache");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mannlab.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return start;
    }

    public static Result Run(string workingDirectory, params string[] args) => Run(workingDirectory, null, args);

    public static Result Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Process.Start(Start(workingDirectory, environment, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
