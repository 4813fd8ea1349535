using MannLab.Data;
using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>String-label loss and accuracy, and one-hot accuracy.</summary>
public class ScoringTests
{
    [Fact]
    public void A_string_label_is_right_only_when_all_five_characters_are()
    {
        var codec = new LabelCodec(LabelEncoding.StringLabels, 3);
        // Two steps; targets "abcde" and "eeeee". The logits pick "abcde" and "eeeea".
        long[] targets = [0, 1, 2, 3, 4, 4, 4, 4, 4, 4];
        var logits = zeros(1, 2, 25);
        int[] picked = [0, 1, 2, 3, 4, 4, 4, 4, 4, 0];
        for (var k = 0; k < 10; k++) logits[0, k / 5, k % 5 * 5 + picked[k]] = 5f;

        Scoring.Correct(logits, tensor(targets, [1, 2, 5]), codec).Should().Equal(true, false);
    }

    [Fact]
    public void String_loss_is_the_mean_cross_entropy_over_characters()
    {
        var codec = new LabelCodec(LabelEncoding.StringLabels, 3);
        var logits = zeros(1, 1, 25); // uniform over 5 symbols for every character
        logits[0, 0, 3] = 1f;         // character 0 leans towards symbol 3
        var loss = Scoring.Loss(logits, tensor(new long[] { 3, 0, 0, 0, 0 }, [1, 1, 5]), codec).item<float>();
        var first = -Math.Log(Math.E / (Math.E + 4));
        loss.Should().BeApproximately((float)((first + 4 * Math.Log(5)) / 5), 1e-5f);
    }

    [Fact]
    public void One_hot_correctness_is_argmax_against_the_target()
    {
        var codec = new LabelCodec(LabelEncoding.OneHot, 3);
        var logits = tensor(new float[] { 0, 2, 1, 3, 0, 0 }, [1, 2, 3]);
        Scoring.Correct(logits, tensor(new long[] { 1, 2 }, [1, 2, 1]), codec).Should().Equal(true, false);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Persistent_memory_carries_over_to_the_next_training_batch_and_wiped_memory_does_not(bool persistent)
    {
        manual_seed(1);
        using var model = new MannModel(Controller.Create(ControllerKind.LstmController, 7, 5, 2 * 3),
            new LruaMemory(5, 6, 3, 2, 0.95, LeastUsedRule.PerHead, persistent: persistent), 3);
        model.train();
        var input = randn(2, 4, 7);
        using var first = model.forward(input);
        using var second = model.forward(input);
        first.allclose(second).Should().Be(!persistent);
        model.eval(); // outside a held-out pass, eval-mode episodes start from a wiped memory
        using var third = model.forward(input);
        using var fourth = model.forward(input);
        third.allclose(fourth).Should().BeTrue();
    }

    private static MannModel SmallMann(bool persistent)
    {
        manual_seed(1);
        return new MannModel(Controller.Create(ControllerKind.LstmController, 7, 5, 2 * 3),
            new LruaMemory(5, 6, 3, 2, 0.95, LeastUsedRule.PerHead, persistent: persistent), 3);
    }

    [Fact]
    public void A_held_out_pass_carries_persistent_memory_from_training_through_its_batches_and_leaves_training_as_it_was()
    {
        using var evaluated = SmallMann(persistent: true);
        using var untouched = SmallMann(persistent: true);
        var input = randn(2, 4, 7);
        foreach (var model in new[] { evaluated, untouched })
        {
            model.train();
            model.forward(input).Dispose();
        }
        evaluated.eval();
        using var wiped = evaluated.forward(input);
        Tensor firstHeldOut, secondHeldOut;
        using (no_grad())
        using (evaluated.HeldOutPass())
        {
            firstHeldOut = evaluated.forward(input);
            secondHeldOut = evaluated.forward(input);
        }
        firstHeldOut.allclose(wiped).Should().BeFalse("the pass starts from the memory training carried");
        secondHeldOut.allclose(firstHeldOut).Should().BeFalse("each batch of the pass starts from where the previous one ended");
        using var afterPass = evaluated.forward(input);
        afterPass.allclose(wiped).Should().BeTrue("after the pass, eval mode wipes again");

        evaluated.train();
        using var next = evaluated.forward(input);
        using var nextUntouched = untouched.forward(input);
        next.allclose(nextUntouched, rtol: 0, atol: 0).Should().BeTrue("the pass leaves the memory training carries as it was");
        firstHeldOut.Dispose();
        secondHeldOut.Dispose();
    }

    [Fact]
    public void A_held_out_pass_of_a_wiped_memory_wipes_every_batch()
    {
        using var model = SmallMann(persistent: false);
        var input = randn(2, 4, 7);
        model.train();
        model.forward(input).Dispose();
        model.eval();
        using var _ = no_grad();
        using var pass = model.HeldOutPass();
        using var first = model.forward(input);
        using var second = model.forward(input);
        first.allclose(second, rtol: 0, atol: 0).Should().BeTrue();
    }
}
