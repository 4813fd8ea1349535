using MannLab.Data;
using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// Finite-difference checks in float64 of the gradients autograd gives through several steps of a
/// whole MANN (controller, access and output): LRUA (both least-used rules, with a learned key strength,
/// and with an add vector) and NTM access.
/// </summary>
public class GradientCheckTests
{
    public static TheoryData<string> Accesses => new() { "lrua-literal", "lrua-per-head", "lrua-key-strength", "lrua-add-vector", "ntm" };

    [Theory]
    [MemberData(nameof(Accesses))]
    public void Autograd_matches_central_differences(string kind)
    {
        manual_seed(3);
        IMemoryAccess access = kind switch
        {
            "lrua-literal" => new LruaAccess(6, 3, 2, 0.9, LeastUsedRule.Literal),
            "lrua-per-head" => new LruaAccess(6, 3, 2, 0.9, LeastUsedRule.PerHead),
            "lrua-key-strength" => new LruaAccess(6, 3, 2, 0.9, LeastUsedRule.PerHead, learnedKeyStrength: true),
            "lrua-add-vector" => new LruaAccess(6, 3, 2, 0.9, LeastUsedRule.Literal, learnedKeyStrength: true, addVector: true),
            _ => new NtmAccess(6, 3, 2, 1),
        };
        using var model = new MannModel(inputs: 7, outputs: 3, ControllerKind.LstmController, hiddenUnits: 5, readHeads: 2, width: 3,
            access, persistentMemory: false);
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
                numeric.Should().BeApproximately(expected, 1e-6 + 1e-4 * Math.Abs(expected), $"{kind}: d loss / d {name}[{i}]");
                checkedCount++;
            }
        }
        checkedCount.Should().BeGreaterThan(40);
    }
}
