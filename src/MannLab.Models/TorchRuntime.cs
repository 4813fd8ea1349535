
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models;

/// <summary>Process-wide torch settings for a training process.</summary>
public static class TorchRuntime
{
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
