using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// LRUA on a tiny memory (4 slots x 3 wide), 1 and 2 heads, two steps each, checked value by value
/// against numbers computed independently (a scalar transcription of eq. 2-8, gamma 0.5).
/// The starting usage [0.5, 0.2, 0.9, 0.2] has a tie for least used between slots 1 and 3.
/// </summary>
public class LruaHandComputedTests
{
    private static Tensor T(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);
    private static Tensor T(double[][] rows) => T([.. rows.SelectMany(r => r)], 1, rows.Length, rows[0].Length);

    private static readonly double[][] Memory0 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]];
    private static readonly double[] Usage0 = [0.5, 0.2, 0.9, 0.2];

    private static LruaState Start(LruaMemory access, double[][] readWeights)
    {
        var usage = T(Usage0, 1, 4);
        var (leastUsed, keep) = access.LeastUsed(usage);
        return new LruaState(T(Memory0), T(readWeights), zeros_like(T(readWeights)), usage, leastUsed, keep);
    }

    private static void ShouldBe(Tensor actual, params double[] expected) =>
        actual.reshape(-1).data<double>().ToArray().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering()
            .Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 2e-6)).WhenTypeIs<double>());

    [Fact]
    public void One_head_literal_rule()
    {
        var access = new LruaMemory(1, 4, 3, 1, 0.5, LeastUsedRule.Literal);
        var state = Start(access, [[0.1, 0.2, 0.3, 0.4]]);
        // Literal eq. 7 with n = 1: both slots tied at the smallest usage are least used.
        ShouldBe(state.LeastUsed!, 0, 1, 0, 1);
        ShouldBe(state.Keep!, 1, 0, 1, 1); // the least-used slot to zero: the lower index of the tie

        var (read, s1) = access.Step(state, T([0, 0, 2], 1, 1, 3), T([0.5], 1, 1, 1));
        ShouldBe(s1.WriteWeights, 0.05, 0.6, 0.15, 0.7);
        ShouldBe(s1.Memory, 1, 0, 0.1, 0, 0, 1.2, 0, 0, 1.3, 1, 1, 1.4); // slot 1 zeroed, then written
        ShouldBe(s1.ReadWeights, 0.129014, 0.31748, 0.31748, 0.236026);
        ShouldBe(read, 0.36504, 0.236026, 1.137038);
        ShouldBe(s1.Usage!, 0.429014, 1.01748, 0.91748, 1.036026);
        ShouldBe(s1.LeastUsed!, 1, 0, 0, 0);
        ShouldBe(s1.Keep!, 0, 1, 1, 1);

        var (read2, s2) = access.Step(s1, T([1, 0, 0], 1, 1, 3), T([0.25], 1, 1, 1));
        ShouldBe(s2.WriteWeights, 0.782253, 0.07937, 0.07937, 0.059006);
        ShouldBe(s2.Memory, 0.782253, 0, 0, 0.07937, 0, 1.2, 0.07937, 0, 1.3, 1.059006, 1, 1.4);
        ShouldBe(s2.ReadWeights, 0.415739, 0.163376, 0.162552, 0.258333);
        ShouldBe(read2, 0.624658, 0.258333, 0.769035);
        ShouldBe(s2.Usage!, 1.412499, 0.751486, 0.700662, 0.835352);
        ShouldBe(s2.LeastUsed!, 0, 0, 1, 0);
    }

    [Fact]
    public void Two_heads_per_head_rule()
    {
        var access = new LruaMemory(1, 4, 3, 2, 0.5, LeastUsedRule.PerHead);
        var state = Start(access, [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]]);
        // Head 0 takes the least-used slot, head 1 the next; the tie (slots 1, 3) goes by index.
        ShouldBe(state.LeastUsed!, 0, 1, 0, 0, 0, 0, 0, 1);

        var (read, s1) = access.Step(state, T([0, 0, 2, 1, -1, 0], 1, 2, 3), T([0.5, 0.8], 1, 2, 1));
        ShouldBe(s1.WriteWeights, 0.05, 0.6, 0.15, 0.2, 0.32, 0.24, 0.16, 0.28);
        ShouldBe(s1.Memory, 1.32, -0.32, 0.1, 0.24, -0.24, 1.2, 0.16, -0.16, 1.3, 1.28, 0.72, 0.4);
        ShouldBe(s1.ReadWeights, 0.140263, 0.341158, 0.349073, 0.169506, 0.381611, 0.213807, 0.193328, 0.211254);
        ShouldBe(read, 0.539845, -0.060569, 0.945013, 0.856378, -0.052259, 0.630558);
        ShouldBe(s1.Usage!, 1.141874, 1.494965, 1.302401, 0.96076);
        ShouldBe(s1.LeastUsed!, 0, 0, 0, 1, 1, 0, 0, 0);
        ShouldBe(s1.Keep!, 1, 1, 1, 0);

        var (read2, s2) = access.Step(s1, T([1, 0, 0, 0, 1, 1], 1, 2, 3), T([0.25, 0.1], 1, 2, 1));
        ShouldBe(s2.WriteWeights, 0.035066, 0.085289, 0.087268, 0.792376, 0.938161, 0.021381, 0.019333, 0.021125);
        ShouldBe(s2.Memory, 1.355066, 0.618161, 1.038161, 0.325289, -0.218619, 1.221381, 0.247268, -0.140667, 1.319333,
            0.792376, 0.021125, 0.021125);
        ShouldBe(read2, 0.782847, 0.124481, 0.738955, 0.677637, 0.085582, 1.00508);
        ShouldBe(s2.Usage!, 2.124107, 1.296191, 1.205652, 1.824051);
        ShouldBe(s2.LeastUsed!, 0, 0, 1, 0, 0, 1, 0, 0);
    }

    [Fact]
    public void At_the_start_the_literal_rule_writes_everywhere_and_per_head_writes_to_the_first_slots()
    {
        var literal = new LruaMemory(1, 4, 3, 2, 0.95, LeastUsedRule.Literal).Initial(1, CPU, ScalarType.Float64);
        ShouldBe(literal.LeastUsed!, 1, 1, 1, 1); // one row, shared by both heads
        var perHead = new LruaMemory(1, 4, 3, 2, 0.95, LeastUsedRule.PerHead).Initial(1, CPU, ScalarType.Float64);
        ShouldBe(perHead.LeastUsed!, 1, 0, 0, 0, 0, 1, 0, 0);
        ShouldBe(perHead.Memory, Enumerable.Repeat((double)LruaMemory.InitialMemory, 12).ToArray());
    }

    [Fact]
    public void A_learned_key_strength_sharpens_the_read_softmax()
    {
        // The one-head case's first step, from the controller's raw outputs: key tanh(tanh^-1 0.5) =
        // [0, 0, 0.5], alpha 0 (gate 0.5) and beta^ = ln(e - 1), so beta = 1 + softplus(beta^) = 2
        // and the read is softmax_i(2 K(k, M(i))).
        var access = new LruaMemory(1, 4, 3, 1, 0.5, LeastUsedRule.Literal, learnedKeyStrength: true);
        access.HeadOutputs.Should().Be(3 + 1 + 1);
        var state = Start(access, [[0.1, 0.2, 0.3, 0.4]]);

        var (read, s1) = access.Step(state, T([0, 0, Math.Atanh(0.5), 0, Math.Log(Math.E - 1)], 1, 5));
        ShouldBe(s1.WriteWeights, 0.05, 0.6, 0.15, 0.7); // writing is unchanged by the key strength
        ShouldBe(s1.Memory, 1, 0, 0.025, 0, 0, 0.3, 0, 0, 1.075, 1, 1, 0.35);
        // With beta = 1 these would be 0.132581, 0.351498, 0.351498, 0.164423.
        ShouldBe(s1.ReadWeights, 0.060257, 0.423533, 0.423533, 0.092676);
        ShouldBe(read, 0.152933, 0.092676, 0.616302);
        ShouldBe(s1.Usage!, 0.360257, 1.123533, 1.023533, 0.892676);
    }

    [Fact]
    public void An_add_vector_is_written_instead_of_the_key()
    {
        // The same first step with the paper's read (beta 1), key [0, 0, 0.5], and an add vector
        // a = tanh(tanh^-1 0.5) = [0.5, 0, 0] that the write uses in place of the key (eq. 8 with a_t).
        var access = new LruaMemory(1, 4, 3, 1, 0.5, LeastUsedRule.Literal, addVector: true);
        access.HeadOutputs.Should().Be(3 + 1 + 3);
        var state = Start(access, [[0.1, 0.2, 0.3, 0.4]]);

        var (read, s1) = access.Step(state, T([0, 0, Math.Atanh(0.5), 0, Math.Atanh(0.5), 0, 0], 1, 7));
        ShouldBe(s1.WriteWeights, 0.05, 0.6, 0.15, 0.7);
        ShouldBe(s1.Memory, 1.025, 0, 0, 0.3, 0, 0, 0.075, 0, 1, 1.35, 1, 0);
        ShouldBe(s1.ReadWeights, 0.175111, 0.175111, 0.474668, 0.175111); // only slot 2 shares the key's direction
        ShouldBe(read, 0.504021, 0.175111, 0.474668);
        ShouldBe(s1.Usage!, 0.475111, 0.875111, 1.074668, 0.975111);
    }
}
