using System.Diagnostics;
using MannLab.Jobs;

namespace MannLab.Web;

/// <summary>
/// Memory heatmaps of a run's latest checkpoint, drawn by `mannlab inspect` in a process of its
/// own (the web host does not load libtorch; TorchSharp's native calls are guarded process-wide)
/// and kept per (run, checkpoint episode).
/// </summary>
public sealed class MemoryImages(SiteData data, string cacheFolder)
{
    private readonly SemaphoreSlim _one = new(1);

    public async Task<(string? File, string? Error)> ForRun(string runId)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(runId, "^[0-9a-f]{12}$")) return (null, "not a run id");
        var bytes = await data.CheckpointBytes(runId);
        if (bytes is null) return (null, $"run {runId} has no checkpoint yet");
        var key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16];
        var image = Path.Combine(cacheFolder, $"{runId}-{key}.png");
        if (File.Exists(image)) return (image, null);
        await _one.WaitAsync();
        try
        {
            if (File.Exists(image)) return (image, null);
            Directory.CreateDirectory(cacheFolder);
            var checkpoint = Path.Combine(cacheFolder, $"{runId}-{key}.bin");
            await File.WriteAllBytesAsync(checkpoint, bytes);
            var (file, prefix) = TrainingProcess.SelfCommand();
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in prefix.Concat(["inspect", checkpoint, "--out", image])) start.ArgumentList.Add(a);
            using var inspect = Process.Start(start)!;
            var error = inspect.StandardError.ReadToEndAsync();
            await inspect.StandardOutput.ReadToEndAsync();
            await inspect.WaitForExitAsync();
            File.Delete(checkpoint);
            return inspect.ExitCode == 0 && File.Exists(image) ? (image, null) : (null, $"inspect failed: {(await error).Trim()}");
        }
        finally
        {
            _one.Release();
        }
    }
}
