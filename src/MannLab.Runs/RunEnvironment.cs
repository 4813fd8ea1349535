using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace MannLab.Runs;

/// <summary>What a result needs to be reproduced: code version, packages, machine, device and threads.</summary>
public sealed record RunEnvironment(string? GitCommit, bool? GitDirty, string MannLabVersion, string TorchSharpVersion,
    string DotNetVersion, string Os, string Host, string Cpu, int LogicalCores, string Device, int Threads)
{
    /// <summary>
    /// This process's environment. What only torch can tell, the device it chose and its version,
    /// is the caller's to give (Training's TorchEnvironment), so that neither this record nor what
    /// stores it needs torch.
    /// </summary>
    /// <param name="home">The MannLab folder: its git commit is the code's version.</param>
    /// <param name="device">The device training runs on, as torch chose it: for <c>device: auto</c>, the spec does not say.</param>
    public static RunEnvironment Capture(string home, string device, string torchSharpVersion, int threads)
    {
        var commit = Git(home, "rev-parse HEAD");
        var dirty = commit is null ? (bool?)null : !string.IsNullOrWhiteSpace(Git(home, "status --porcelain --untracked-files=no"));
        return new RunEnvironment(commit, dirty,
            typeof(RunEnvironment).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
            torchSharpVersion, RuntimeInformation.FrameworkDescription, RuntimeInformation.OSDescription, Environment.MachineName,
            CpuModel(), Environment.ProcessorCount, device, threads);
    }

    public static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim()
                   ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string? Git(string folder, string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no git on this machine
        }
    }
}
