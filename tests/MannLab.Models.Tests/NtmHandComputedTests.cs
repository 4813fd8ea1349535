using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// NTM access on a tiny memory (4 slots x 3 wide, shifts -1..1), checked value by value against
/// tests/reference/ntm_reference.py, a scalar transcription of Graves et al. 2014, eq. 2-9.
/// Each head's parameters are written as the values the paper uses (beta, g, gamma, s, e, a) and
/// fed to the access as their pre-images, so the squashing of the controller's outputs is checked too.
/// </summary>
public class NtmHandComputedTests
{
    private static Tensor T(double[] values, params long[] shape) => tensor(values, shape, ScalarType.Float64);
    private static Tensor T(double[][] rows) => T([.. rows.SelectMany(r => r)], 1, rows.Length, rows[0].Length);

    private static readonly double[][] Memory0 = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]];

    private static double InverseSoftplus(double y) => Math.Log(Math.Exp(y) - 1);
    private static double Logit(double p) => Math.Log(p / (1 - p));

    /// <summary>A head's addressing outputs: key, beta^, g^, gamma^ and the shift logits over -1, 0, +1.</summary>
    private static double[] Addressing(double[] key, double beta, double g, double gamma, double[] shift) =>
        [.. key, InverseSoftplus(beta), Logit(g), InverseSoftplus(gamma - 1), .. shift.Select(s => Math.Log(s))];

    /// <summary>A write head's outputs: its addressing, then the erase and add vectors.</summary>
    private static double[] Writing(double[] key, double beta, double g, double gamma, double[] shift, double[] erase, double[] add) =>
        [.. Addressing(key, beta, g, gamma, shift), .. erase.Select(Logit), .. add.Select(Math.Atanh)];

    /// <summary>The controller's output for one step: every write head, then every read head.</summary>
    private static Tensor Outputs(params double[][] heads) => T([.. heads.SelectMany(h => h)], 1, heads.Sum(h => h.Length));

    private static NtmState Start(double[][] memory, double[][] writeWeights, double[][] readWeights) =>
        new(T(memory), T(readWeights), T(writeWeights));

    private static void ShouldBe(Tensor actual, params double[] expected) =>
        actual.reshape(-1).data<double>().ToArray().Should().BeEquivalentTo(expected, o => o.WithStrictOrdering()
            .Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 2e-6)).WhenTypeIs<double>());

    [Fact]
    public void One_head_two_steps()
    {
        var access = new NtmMemory(1, 4, 3, 1, 1);
        access.HeadOutputs.Should().Be((3 + 3 + 3) + (3 + 3 + 3 + 2 * 3)); // read head + write head
        var state = Start(Memory0, [[0.1, 0.2, 0.3, 0.4]], [[0.4, 0.3, 0.2, 0.1]]);

        // The write's shift weighting leans forward (5/8 on +1), the read's backward (5/8 on -1).
        var (read, s1) = access.Step(state, Outputs(
            Writing([1, 0, 1], 2, 0.75, 2, [1 / 8.0, 2 / 8.0, 5 / 8.0], [0.75, 0.5, 0.25], [0.5, 0, -0.5]),
            Addressing([0, 1, 1], 1, 0.5, 1.5, [5 / 8.0, 2 / 8.0, 1 / 8.0])));
        ShouldBe(s1.WriteWeights, 0.250547, 0.236565, 0.136644, 0.376244);
        ShouldBe(s1.Memory, 0.937363, 0, -0.125274, 0.118282, 0.881718, -0.118282, 0.068322, 0, 0.897517,
            0.905939, 0.811878, -0.188122);
        ShouldBe(s1.ReadWeights, 0.287015, 0.284294, 0.186843, 0.241848);
        ShouldBe(read, 0.534529, 0.447018, 0.052616);

        // The second step interpolates with the first step's weights (eq. 7's w_{t-1}).
        var (read2, s2) = access.Step(s1, Outputs(
            Writing([0, 1, 0], 5, 0.25, 2.5, [1 / 3.0, 1 / 3.0, 1 / 3.0], [0.5, 0.5, 0.5], [0, 0.8, 0]),
            Addressing([1, 1, 0], 2, 0.75, 2, [2 / 8.0, 5 / 8.0, 1 / 8.0])));
        ShouldBe(s2.WriteWeights, 0.374925, 0.185941, 0.291846, 0.147287);
        ShouldBe(s2.Memory, 0.761643, 0.29994, -0.10179, 0.107286, 0.948497, -0.107286, 0.058352, 0.233477, 0.766549,
            0.839223, 0.869918, -0.174268);
        ShouldBe(s2.ReadWeights, 0.335681, 0.189902, 0.129854, 0.344563);
        ShouldBe(read2, 0.572785, 0.610865, -0.01505);
    }

    [Fact]
    public void A_shift_on_plus_one_moves_the_focus_to_the_next_slot_and_on_minus_one_to_the_previous()
    {
        // Eq. 8, w~(i) = sum_j w^g(j) s(i - j): all of s on +1 gives w~(i) = w^g(i - 1). Raw outputs:
        // g^ = -50 keeps only the previous weights, gamma^ = -50 leaves gamma at 1 (no sharpening),
        // and the shift logits put all mass on +1 (write) or -1 (read). Two episodes: focus at slot 1,
        // and at the ends, where the shift wraps around.
        var access = new NtmMemory(1, 4, 3, 1, 1);
        double[] key = [1, 0, 0], forward = [-50, -50, 50], backward = [50, -50, -50];
        double[] write = [.. key, 0, -50, -50, .. forward, 0, 0, 0, 0, 0, 0], read = [.. key, 0, -50, -50, .. backward];
        var memory = T([.. Memory0.SelectMany(r => r), .. Memory0.SelectMany(r => r)], 2, 4, 3);
        var state = new NtmState(memory, T([0, 1, 0, 0, 1, 0, 0, 0], 2, 1, 4), T([0, 1, 0, 0, 0, 0, 0, 1], 2, 1, 4));

        var (_, next) = access.Step(state, T([.. write, .. read, .. write, .. read], 2, 24));
        ShouldBe(next.WriteWeights, 0, 0, 1, 0, 1, 0, 0, 0); // slot 1 -> 2; slot 3 -> 0
        ShouldBe(next.ReadWeights, 1, 0, 0, 0, 0, 0, 0, 1); // slot 1 -> 0; slot 0 -> 3
    }

    [Fact]
    public void Two_write_heads_erase_by_the_product_of_their_erase_factors()
    {
        // Both write heads weight slots 0 and 3. Section 3.2: with several write heads "the erasures
        // can be performed in any order, as multiplication is commutative": M(i) is scaled by
        // prod_h (1 - w_h(i) e_h), then every head's w_h(i) a_h is added.
        var access = new NtmMemory(1, 4, 3, 2, 1);
        var state = Start(Memory0, [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]], [[0.4, 0.3, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1]]);

        var (read, s1) = access.Step(state, Outputs(
            Writing([1, 0, 0], 3, 0.9, 1.5, [0.1, 0.8, 0.1], [0.8, 0.6, 0.4], [0.2, -0.2, 0.6]),
            Writing([1, 1, 0], 3, 0.6, 2, [0.2, 0.6, 0.2], [0.5, 0.9, 0.3], [-0.4, 0.3, 0.1]),
            Addressing([1, 0, 0.5], 2, 0.5, 1.2, [0.3, 0.5, 0.2]),
            Addressing([0, 0, 1], 4, 0.8, 3, [0.05, 0.9, 0.05])));
        ShouldBe(s1.WriteWeights, 0.629691, 0.058499, 0.039274, 0.272537, 0.280431, 0.168554, 0.153833, 0.397182);
        ShouldBe(s1.Memory, 0.440432, -0.041809, 0.405857, -0.055722, 0.857393, 0.051955, -0.053679, 0.038295, 0.977813,
            0.522313, 0.602115, 0.20324);
        ShouldBe(s1.ReadWeights, 0.329841, 0.231223, 0.17216, 0.266776, 0.110036, 0.002295, 0.883875, 0.003794);
        ShouldBe(read, 0.262487, 0.351681, 0.368442, 0.002872, 0.0335, 0.909814);
    }
}
