using MannLab.Spec;
using MannLab.Training;

namespace MannLab.Cli.Tests;

/// <summary>`mannlab bench` times the models that the paper's specs train, not copies of them that could drift.</summary>
public class BenchModelsTests
{
    [Theory]
    [InlineData("feedforward", "table1-feedforward.yaml")]
    [InlineData("lstm", "table1-lstm.yaml")]
    [InlineData("mann", "table1-mann.yaml")]
    [InlineData("mann-extended", "table1-mann-extended.yaml")]
    public void Each_benchmarked_model_is_the_one_its_table1_spec_trains(string kind, string file)
    {
        var spec = Experiments.load(Path.Combine(Mannlab.RepositoryRoot, "experiments", "paper", file));
        spec.IsOk.Should().BeTrue(file);
        Benchmark.PaperModel(kind).Should().Be(spec.ResultValue.Runs.Head.Spec.Model, $"bench --model {kind} times {file}'s model");
    }

    [Fact]
    public void Every_model_bench_knows_is_tested_above() =>
        Benchmark.Kinds.Keys.Should().BeEquivalentTo("feedforward", "lstm", "mann", "mann-extended");
}
