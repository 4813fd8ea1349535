using MannLab.Data;
using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// Finite-difference checks in float64 of the gradients autograd gives through several steps of a
/// whole MANN (controller, access and output): LRUA (both least-used rules, with a learned key strength,
/// and with an add vector) and NTM access, with an LSTM controller and with a feed-forward one.
/// </summary>
public class GradientCheckTests
{
    public static TheoryData<string> Accesses => new() { "lrua-literal", "lrua-per-head", "lrua-key-strength", "lrua-add-vector", "ntm" };

    /// <summary>Table 2's feed-forward MANN uses LRUA; NTM access is here too because the controller is independent of it.</summary>
    public static TheoryData<string> FeedForwardAccesses => new() { "lrua-literal", "lrua-per-head", "ntm" };

    [Theory]
    [MemberData(nameof(Accesses))]
    public void Autograd_matches_central_differences(string kind) => Check(kind, ControllerKind.LstmController, fused: true);

    /// <summary>The module path, which the fused recurrence replaces on the CPU for LRUA (NTM has only this one).</summary>
    [Theory]
    [MemberData(nameof(Accesses))]
    public void Autograd_matches_central_differences_on_the_module_path(string kind) => Check(kind, ControllerKind.LstmController, fused: false);

    /// <summary>
    /// The feed-forward controller's only path from one step to the next is r_{t-1} through the
    /// recurrent weight, whose gradient comes back in one GEMM after the recurrence (DeferredWeightGradient).
    /// </summary>
    [Theory]
    [MemberData(nameof(FeedForwardAccesses))]
    public void Autograd_matches_central_differences_with_a_feed_forward_controller(string kind)
    {
        Check(kind, ControllerKind.FeedForwardController, fused: true);
        Check(kind, ControllerKind.FeedForwardController, fused: false);
    }

    private static void Check(string kind, ControllerKind controller, bool fused)
    {
        manual_seed(3);
        var controllerModule = Controller.Create(controller, inputs: 7, hiddenUnits: 5, readWidth: 2 * 3);
        ExternalMemory memory = kind switch
        {
            "lrua-literal" => new LruaMemory(5, 6, 3, 2, 0.9, LeastUsedRule.Literal),
            "lrua-per-head" => new LruaMemory(5, 6, 3, 2, 0.9, LeastUsedRule.PerHead),
            "lrua-key-strength" => new LruaMemory(5, 6, 3, 2, 0.9, LeastUsedRule.PerHead, learnedKeyStrength: true),
            "lrua-add-vector" => new LruaMemory(5, 6, 3, 2, 0.9, LeastUsedRule.Literal, learnedKeyStrength: true, addVector: true),
            _ => new NtmMemory(5, 6, 3, 2, 1),
        };
        using var model = new MannModel(controllerModule, memory, outputs: 3) { Fused = fused };
        model.to(ScalarType.Float64);
        var input = randn([2, 5, 7], ScalarType.Float64);
        var targets = randint(0, 3, [2, 5, 1], ScalarType.Int64);
        var codec = new LabelCodec(LabelEncoding.OneHot, 3);

        double Loss() { using var _ = NewDisposeScope(); return Scoring.Loss(model.forward(input), targets, codec).item<double>(); }

        model.zero_grad();
        Scoring.Loss(model.forward(input), targets, codec).backward();
        var checkedCount = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            var analytic = parameter.grad!.clone();
            // Zero against zero would pass unnoticed: a relu that never fires, or a weight cut off the graph.
            analytic.abs().max().item<double>().Should().BeGreaterThan(1e-8, $"{kind}, {controller}, fused {fused}: d loss / d {name} is not all zero");
            var count = (int)parameter.numel();
            // A spread of elements of every parameter: enough to catch a wrong step without testing all.
            foreach (var i in Enumerable.Range(0, count).Where(i => i % Math.Max(1, count / 6) == 0))
            {
                using var flat = parameter.detach().view(-1);
                var original = flat[i].item<double>();
                const double h = 1e-6;
                using (no_grad()) flat[i] = original + h;
                var plus = Loss();
                using (no_grad()) flat[i] = original - h;
                var minus = Loss();
                using (no_grad()) flat[i] = original;
                var numeric = (plus - minus) / (2 * h);
                var expected = analytic.view(-1)[i].item<double>();
                numeric.Should().BeApproximately(expected, 1e-6 + 1e-4 * Math.Abs(expected), $"{kind}, {controller}, fused {fused}: d loss / d {name}[{i}]");
                checkedCount++;
            }
        }
        checkedCount.Should().BeGreaterThanOrEqualTo(40); // 40 for the smallest, the feed-forward controller with NTM access
    }
}
