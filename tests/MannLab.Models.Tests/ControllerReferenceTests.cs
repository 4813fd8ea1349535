using MannLab.Data;
using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// The controllers' deferred recurrent-weight gradient (one GEMM after the recurrence) against the
/// plain recurrence autograd differentiates step by step: the same logits and the same gradients,
/// through a whole MANN in float64.
/// </summary>
public class ControllerReferenceTests
{
    public static TheoryData<string> Controllers => new() { "lstm", "feedforward" };

    [Theory]
    [MemberData(nameof(Controllers))]
    public void The_deferred_gradient_matches_the_plain_recurrence(string kind)
    {
        var controller = kind == "lstm" ? ControllerKind.LstmController : ControllerKind.FeedForwardController;
        using var deferred = Mann(controller, deferWeightGradient: true);
        using var reference = Mann(controller, deferWeightGradient: false);
        var input = randn([2, 6, 7], ScalarType.Float64);
        var targets = randint(0, 3, [2, 6, 1], ScalarType.Int64);
        var codec = new LabelCodec(LabelEncoding.OneHot, 3);

        var logits = deferred.forward(input);
        Scoring.Loss(logits, targets, codec).backward();
        var expectedLogits = reference.forward(input);
        Scoring.Loss(expectedLogits, targets, codec).backward();

        logits.data<double>().ToArray().Should().Equal(expectedLogits.data<double>().ToArray(), "the forward pass is the same arithmetic");
        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        foreach (var (name, parameter) in deferred.named_parameters())
        {
            var (actual, wanted) = (parameter.grad!.view(-1).data<double>().ToArray(), expected[name].view(-1).data<double>().ToArray());
            wanted.Max(Math.Abs).Should().BeGreaterThan(1e-8, $"d loss / d {name} is not all zero");
            // The deferred GEMM sums the steps in another order: equal up to rounding.
            for (var i = 0; i < actual.Length; i++)
                actual[i].Should().BeApproximately(wanted[i], 1e-12 + 1e-9 * Math.Abs(wanted[i]), $"d loss / d {name}[{i}]");
        }
    }

    /// <summary>The same weights for both paths: the same seed and the same initialisation order.</summary>
    private static MannModel Mann(ControllerKind controller, bool deferWeightGradient)
    {
        manual_seed(3);
        var model = new MannModel(Controller.Create(controller, inputs: 7, hiddenUnits: 5, readWidth: 2 * 3, deferWeightGradient),
            new LruaMemory(5, 6, 3, 2, 0.9, LeastUsedRule.PerHead), outputs: 3) { Fused = false }; // the controller's own paths
        model.to(ScalarType.Float64);
        return model;
    }
}
