using MannLab.Data;
using MannLab.Runs;
using MannLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>The regression task trained for real: the Gaussian output's loss, and a MANN that learns to predict functions of a GP prior.</summary>
public class RegressionTrainingTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_loss_is_the_gaussian_negative_log_likelihood_of_the_mean_and_log_variance()
    {
        using var scope = NewDisposeScope();
        // Two steps of one episode: (mean 0.5, log-variance -1) against y = 1, (mean -2, log-variance 0.7) against y = 0.
        var output = tensor(new[] { 0.5f, -1f, -2f, 0.7f }, [1, 2, 2]);
        var y = tensor(new[] { 1f, 0f }, [1, 2]);
        var perStep = GaussianOutput.NegativeLogLikelihood(output, y).data<float>().ToArray();
        perStep[0].Should().BeApproximately((float)GpPosterior.NegativeLogLikelihood(0.5, Math.Exp(-1), 1), 1e-5f);
        perStep[1].Should().BeApproximately((float)(0.5 * (Math.Log(2 * Math.PI) + 0.7 + 4 / Math.Exp(0.7))), 1e-5f);
        GaussianOutput.Loss(output, y).item<float>().Should().BeApproximately((perStep[0] + perStep[1]) / 2, 1e-6f);
        GaussianOutput.Split(output).Variance.data<float>().ToArray().Should().BeEquivalentTo([MathF.Exp(-1), MathF.Exp(0.7f)],
            o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
    }

    private const string OneD = """
        name: gp-1d
        task:
          kind: regression
          regression: {dimensions: 1, points: 15}
        model:
          kind: mann
          hidden: 48
          memory: {slots: 24, width: 12, read_heads: 2}
        training: {optimizer: adam, lr: 1e-3, batch_size: 16, episodes: 24000, seed: 2}
        evaluation: {every: 8000, episodes: 160}
        checkpoint: {every: 24000}
        """;

    [Fact]
    public void A_mann_learns_to_predict_a_gp_function_from_the_points_it_has_seen()
    {
        var run = TrainingFolder.Spec(OneD);
        var (sink, folder) = _folder.Sink(run, "gp");
        var result = new Trainer(run.Spec, run.Id, sink.CheckpointFile, sink).Run();
        result.Outcome.Should().Be(Outcome.Completed, result.Reason);

        var metrics = TrainingFolder.Metrics(folder).Where(m => m.Item1 == 24000).ToDictionary(m => m.Item2, m => m.Item3);
        double Model(int t) => metrics[$"eval_nll_step_{t}"];
        double Gp(int t) => metrics[$"gp_nll_step_{t}"];
        // The prior's expected NLL of y ~ N(0, 1 + 0.01): what a model that learnt nothing from the episode can reach.
        var prior = 0.5 * (Math.Log(2 * Math.PI) + Math.Log(1.01) + 1);
        var later = Enumerable.Range(11, 5).Average(Model);
        later.Should().BeLessThan(Model(1) - 0.4, "later steps have seen points of the function");
        later.Should().BeLessThan(prior - 0.4);
        Model(1).Should().BeApproximately(prior, 0.15, "before any point, the best is the prior");
        // The exact posterior is the best any predictor can do; on 160 episodes, none is far better.
        for (var t = 1; t <= 15; t++) Gp(t).Should().BeLessThan(Model(t) + 0.1, $"step {t}");
        Gp(15).Should().BeLessThan(Gp(1) - 1, "the GP's own NLL falls as points are stored");
        metrics["eval_loss"].Should().BeApproximately(Enumerable.Range(1, 15).Average(Model), 1e-9);
        metrics["gp_mse"].Should().BeApproximately(Enumerable.Range(1, 15).Average(t => metrics[$"gp_se_step_{t}"]), 1e-9);
        result.FinalEvaluation.Should().BeEmpty("a regression has no per-instance accuracy");
        File.Exists(Path.Combine(folder, "memory.png")).Should().BeTrue("a MANN's memory is drawn at its checkpoints, whatever its task");
    }
}
