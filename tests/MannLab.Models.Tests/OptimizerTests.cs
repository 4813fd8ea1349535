using MannLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// MannLab's RMSProp and Adam take TorchSharp's steps to the last bit (they differ only in how
/// they hand numbers to torch), and keep TorchSharp's checkpoint format.
/// </summary>
public class OptimizerTests
{
    private static (Tensor Weights, Tensor Gradients) Problem(int seed)
    {
        manual_seed(seed);
        return (randn(7, 5), randn(20, 7, 5));
    }

    private static float[] Train(Func<IEnumerable<TorchSharp.Modules.Parameter>, optim.Optimizer> create, int seed)
    {
        var (start, gradients) = Problem(seed);
        using var parameter = new TorchSharp.Modules.Parameter(start);
        using var optimizer = create([parameter]);
        for (var step = 0; step < gradients.shape[0]; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            parameter.grad = gradients[step].clone();
            optimizer.step();
        }
        return parameter.detach().data<float>().ToArray();
    }

    [Fact]
    public void RmsProp_with_momentum_steps_as_torchsharps_does() =>
        Train(p => new Optimizers.RmsProp(p, 1e-2, 0.95, 0.9), 1).Should()
            .Equal(Train(p => optim.RMSProp(p, 1e-2, alpha: 0.95, momentum: 0.9), 1));

    [Fact]
    public void RmsProp_without_momentum_steps_as_torchsharps_does() =>
        Train(p => new Optimizers.RmsProp(p, 1e-2, 0.9, 0), 2).Should()
            .Equal(Train(p => optim.RMSProp(p, 1e-2, alpha: 0.9), 2));

    [Fact]
    public void Adam_steps_as_torchsharps_does() =>
        Train(p => new Optimizers.AdamOptimizer(p, 1e-2, 0.9, 0.999), 3).Should()
            .Equal(Train(p => optim.Adam(p, 1e-2, 0.9, 0.999), 3));

    [Fact]
    public void Steps_change_the_parameters() =>
        Train(p => new Optimizers.AdamOptimizer(p, 1e-2, 0.9, 0.999), 3).Should().NotEqual(Problem(3).Weights.data<float>().ToArray());
}
