using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>Process-wide torch settings for a training process.</summary>
public static class TorchRuntime
{
    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetNativeEnvironment(string name, string value, int overwrite);

    /// <summary>
    /// Whether training <paramref name="model"/> on <paramref name="threads"/> threads splits the
    /// fused recurrence over them (<see cref="MannModel"/>: LRUA memory wiped every episode, on the CPU).
    /// </summary>
    public static bool SplitsFusedRecurrence(Spec.Model model, int threads, Spec.Device device) =>
        threads > 1 && !device.IsCuda && model is Spec.Model.Mann { mann: { Access.IsLrua: true, Memory.Persistent: false } };

    /// <summary>
    /// What libtorch's OpenMP (libgomp) reads once, as it loads: for a process that splits the fused
    /// recurrence over threads, its idle threads sleep rather than spin. Spinning for a while after
    /// each op that torch ran on two threads, one took the core that the recurrence's second shard
    /// runs on: 61-73 ms an iteration instead of 44-47 (BENCHMARKS.md). Not for the others: an LSTM on two
    /// threads runs twice as fast with them spinning. A setting of the user's own stands. Call it
    /// before anything uses torch; it is set in the native environment, since .NET keeps its own copy.
    /// </summary>
    public static void BeforeTorchLoads(bool splitsFusedRecurrence)
    {
        if (!splitsFusedRecurrence || !OperatingSystem.IsLinux()) return;
        if (File.ReadAllText("/proc/self/maps").Contains("libgomp"))
            throw new InvalidOperationException("torch was loaded before its OpenMP threads' wait policy could be set");
        SetNativeEnvironment("OMP_WAIT_POLICY", "PASSIVE", overwrite: 0);
    }

    /// <summary>
    /// Sets torch's thread count (measured on 2-core machines: small-op training loops run faster
    /// on one thread than two) and picks the device: cuda, cpu, or auto (cuda when available).
    /// </summary>
    public static Device Configure(int threads, MannLab.Spec.Device device)
    {
        set_num_threads(threads);
        if (device.IsCpu) return CPU;
        if (cuda.is_available()) return CUDA;
        if (device.IsCuda)
            throw new InvalidOperationException("training.device is cuda, but no CUDA device is available " +
                                                "(a GPU build needs `dotnet build -p:TorchBackend=cuda`; see the README)");
        return CPU;
    }

    public static void Seed(long seed) => manual_seed(seed);
}
