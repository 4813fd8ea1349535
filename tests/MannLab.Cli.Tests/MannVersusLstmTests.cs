using System.Globalization;
using System.Text.Json;
using MannLab.Testing;

namespace MannLab.Cli.Tests;

/// <summary>
/// The MANN beats the LSTM trained with the same budget, on the paper's task: the real Omniglot
/// (../shared/omniglot), 5 classes x 10 sights, 20x20, controller 200, memory 128 x 40, 4 heads,
/// Adam 1e-3, batch 16, 64,000 episodes each. The MANN is MannLab's (per-head, learned key
/// strength, add vector); the paper's MANN needs several times the budget to leave the LSTM
/// behind, if it does (BENCHMARKS.md). Each model trains in its own <c>mannlab train</c> process,
/// side by side on one core each, as MannLab trains every run: one trainer per process.
/// </summary>
/// <remarks>
/// Calibration (BENCHMARKS.md; held-out accuracy at the 2nd sight after 64,000 episodes): the
/// MANN reached 72.1% (seed 1) and 70.7% (seed 2), and between 59.3% and 63.5% at 60,000 and
/// 70,000 (seed 0, the Table 1 run); the LSTM 39.2% (seeds 1 and 2), and 36.0-41.6% (seed 0),
/// only leaving its plateau. Gaps: 32.9, 31.5 and about 22 points; the stated margin, 15 points,
/// leaves room for another BLAS's rounding to shift the jumps.
/// </remarks>
[Trait(TestKind.Trait, TestKind.Learning)]
[Trait(TestKind.Trait, TestKind.FullOmniglot)]
public class MannVersusLstmTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Spec = """
        name: mann-versus-lstm
        training: {optimizer: adam, lr: 1e-3, episodes: 64000, seed: 1}
        evaluation: {every: 64000, episodes: 256}
        checkpoint: {every: 64000}
        sweep:
          model:
            - {kind: mann, lrua: {least_used: per-head, key_strength: learned, write: add-vector}}
            - {kind: lstm}
        """;

    [Fact]
    public async System.Threading.Tasks.Task Mann_beats_the_lstm_trained_with_the_same_budget_on_omniglot()
    {
        const double margin = 0.15;
        var file = _folder.Write("mann-versus-lstm.yaml", Spec);
        var runs = new[] { 0, 1 }.Select(point => System.Threading.Tasks.Task.Run(() => Mannlab.Run(_folder.Path,
            new Dictionary<string, string> { ["MANNLAB_CACHE"] = _folder.Sub($"cache-{point}") },
            "train", file, "--point", point.ToString(CultureInfo.InvariantCulture), "--out", _folder.Sub($"point-{point}")))).ToArray();
        foreach (var result in await System.Threading.Tasks.Task.WhenAll(runs)) result.ExitCode.Should().Be(0, result.Out + result.Err);

        double SecondSight(int point)
        {
            using var final = JsonDocument.Parse(File.ReadAllText(_folder.Sub($"point-{point}/final-instances.json")));
            var second = final.RootElement.EnumerateArray().Single(e => e.GetProperty("instance").GetInt32() == 2);
            second.GetProperty("total").GetInt32().Should().Be(256 * 5);
            return second.GetProperty("accuracy").GetDouble();
        }
        var (mann, lstm) = (SecondSight(0), SecondSight(1));

        mann.Should().BeGreaterThan(lstm + margin, $"the MANN ({mann:P1}) should lead the LSTM ({lstm:P1}) at the 2nd sight by {margin:P0}");
    }
}
