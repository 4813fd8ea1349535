using MannLab.Data;
using MannLab.Runs;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>A training process's <see cref="RunEnvironment"/>, with what only torch can tell: the device it chose and its version.</summary>
public static class TorchEnvironment
{
    public static RunEnvironment Capture(Device device, int threads) => RunEnvironment.Capture(MannLabHome.Path,
        device.type.ToString().ToLowerInvariant(), typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown", threads);
}
