using System.ComponentModel;
using System.Diagnostics;

namespace MannLab.Testing;

/// <summary>Runs a system program to its end within a time bound, capturing what it printed.</summary>
public static class Command
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public bool Succeeded => ExitCode == 0;
    }

    public static Task<Result> RunAsync(TimeSpan timeout, params string[] command) => RunAsync(StartInfo(command), timeout);

    /// <summary>The start info for a program and its arguments, each passed as is (no shell).</summary>
    public static ProcessStartInfo StartInfo(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]);
        foreach (var argument in command[1..]) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>
    /// Runs <paramref name="start"/>, with <paramref name="input"/> as its standard input (none by
    /// default: it inherits ours); a program still running after <paramref name="timeout"/> is
    /// killed, and that throws, since its output would be partial.
    /// </summary>
    public static async Task<Result> RunAsync(ProcessStartInfo start, TimeSpan timeout, string? input = null)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = input is not null;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"cannot run {start.FileName}: {e.Message}", e);
        }
        using (process)
        {
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
                process.StandardInput.Close();
            }
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var bound = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{Describe(start)} was still running after {timeout.TotalSeconds:0} s");
            }
            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }

    public static string Describe(ProcessStartInfo start) => string.Join(' ', [start.FileName, .. start.ArgumentList]);
}
