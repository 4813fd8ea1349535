using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// The MANN with a feed-forward controller (Table 2's "MANN, feed-forward controller": LRUA access)
/// on a tiny case, every weight set by hand: 3 inputs, 2 hidden units, 2 heads over 4 slots x 2, 2
/// outputs, three steps from a fresh memory. The logits are checked against
/// tests/reference/feedforward_mann_reference.py, which transcribes h_t = relu(W_x x_t + b_x + W_r r_{t-1}),
/// the LRUA step (Santoro et al. eq. 2-8) and o_t = W_o [h_t, r_t] + b_o.
/// </summary>
public class FeedForwardMannHandComputedTests
{
    private static Tensor T(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);

    private static void ShouldBe(Tensor actual, params double[] expected) =>
        actual.reshape(-1).data<double>().ToArray().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering()
            .Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 2e-6)).WhenTypeIs<double>());

    [Fact]
    public void One_episode_of_three_steps_from_a_fresh_memory()
    {
        using var model = new MannModel(Controller.Create(ControllerKind.FeedForwardController, inputs: 3, hiddenUnits: 2, readWidth: 2 * 2),
            new LruaMemory(2, 4, 2, 2, 0.9, LeastUsedRule.PerHead), outputs: 2);
        model.to(ScalarType.Float64);
        var weights = new Dictionary<string, Tensor>
        {
            ["controller.inputProjection.weight"] = T([0.5, -0.3, 0.2, -0.4, 0.6, 0.1], 2, 3), // W_x on [x_t, y_{t-1}]
            ["controller.inputProjection.bias"] = T([0.1, -0.2], 2),
            ["controller.recurrent"] = T([0.7, -0.5, 0.2, 0.4, 0.3, 0.8, -0.6, 0.1], 2, 4), // W_r on r_{t-1}: no h_{t-1}
            // W_k: head 0's key, head 1's key, then the two gates' alpha.
            ["memory.head.weight"] = T([0.9, -0.2, 0.1, 0.6, -0.5, 0.3, 0.4, 0.8, 0.7, -0.4, -0.3, 0.5], 6, 2),
            ["memory.head.bias"] = T([0.05, -0.1, 0.2, 0, -0.3, 0.1], 6),
            ["output.weight"] = T([0.3, -0.6, 0.8, 0.2, -0.4, 0.5, -0.5, 0.4, -0.1, 0.9, 0.6, -0.2], 2, 6), // W_o on [h_t, r_t]
            ["output.bias"] = T([0, 0.1], 2),
        };
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters.Keys.Should().BeEquivalentTo(weights.Keys, "every weight is set by hand, none left at its random start");
        using (no_grad())
            foreach (var (name, value) in weights) parameters[name].copy_(value);

        var logits = model.forward(T([1, 0, 0, 0, 1, 1, 1, 1, 0], 1, 3, 3));

        // Step 1's pre-activation is [0.6, -0.6]: the relu cuts the second unit. Step 2 writes partly
        // to slots 2 and 3, tied for least used after step 1 (the tie goes by index: slot 2 to head 0).
        logits.shape.Should().Equal(1, 3, 2);
        ShouldBe(logits, 0.276987, -0.21431, -0.118673, 0.487335, 0.283241, 0.193996);
    }
}
