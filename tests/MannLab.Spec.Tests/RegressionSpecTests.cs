using System.Text.Json.Nodes;

namespace MannLab.Spec.Tests;

/// <summary>The regression task kind (task.kind: regression, task.regression.*): its keys, checks, and canonical form.</summary>
public class RegressionSpecTests
{
    private const string OneD = """
        name: gp
        model: {kind: mann}
        task:
          kind: regression
          regression: {dimensions: 1, points: 30, length_scale: 0.3}
        """;

    [Fact]
    public void A_regression_takes_its_gp_prior_from_the_spec_and_its_defaults_elsewhere()
    {
        var task = SpecText.Single(OneD).Task;
        task.Regression.Should().NotBeNull();
        task.Regression!.Value.Should().Be(new GpRegression(1, 30, -1.0, 1.0, 0.3, 1.0, 0.01));
        task.EpisodeLength.Should().Be(30, "an episode is the function's points");
        Schema.describeTask(task).Should().Be("GP regression, 1-D, 30 points, length scale 0.3, noise variance 0.01");
    }

    [Fact]
    public void Its_canonical_form_has_the_regression_and_none_of_a_classifications_keys_and_reads_back()
    {
        var run = SpecText.Valid(OneD).Runs.Head;
        var json = JsonNode.Parse(run.Json)!;
        json["task"]!.ToJsonString().Should().Be(
            """{"kind":"regression","regression":{"dimensions":1,"points":30,"x_low":-1,"x_high":1,"length_scale":0.3,"signal_variance":1,"noise_variance":0.01}}""");
        json["dataset"].Should().BeNull("a regression reads no dataset");
        json["evaluation"]!.AsObject().Select(p => p.Key).Should().Equal("every", "episodes");
        var back = Experiments.specOfJson(run.Json);
        back.IsOk.Should().BeTrue();
        back.ResultValue.Should().Be(run.Spec);
        Canonical.runId(back.ResultValue).Should().Be(run.Id);
        SpecText.Valid(OneD.Replace("length_scale: 0.3", "length_scale: 0.4")).Runs.Head.Id.Should().NotBe(run.Id, "the prior is trained on");
    }

    [Fact]
    public void A_classification_spec_keeps_the_form_and_the_id_it_had_before_regression_existed()
    {
        var json = JsonNode.Parse(SpecText.Valid("name: x\nmodel: {kind: mann}\n").Runs.Head.Json)!;
        json["task"]!.AsObject().Select(p => p.Key).Should().Equal("classes", "instances", "labels");
        SpecText.Valid("name: x\nmodel: {kind: mann}\ntask: {kind: classification}\n").Runs.Head.Id
            .Should().Be(SpecText.Valid("name: x\nmodel: {kind: mann}\n").Runs.Head.Id);
    }

    [Theory]
    [InlineData("task: {kind: regression, classes: 5}", 1, 26, "task.classes", "applies to task.kind: classification only")]
    [InlineData("task: {kind: regression, regression: {dimensions: 4}}", 1, 51, "task.regression.dimensions", "must be 1, 2 or 3, got 4")]
    [InlineData("task: {kind: regression, regression: {x_low: 2, x_high: 2}}", 1, 57, "task.regression.x_high", "must be above x_low (2), got 2")]
    [InlineData("task: {kind: regression, regression: {noise_variance: 0}}", 1, 55, "task.regression.noise_variance", "greater than 0")]
    [InlineData("task: {regression: {points: 10}}", 1, 8, "task.regression", "apply to task.kind: regression only")]
    [InlineData("task: {kind: regression}\ndataset: {image_size: 10}", 2, 1, "dataset", "reads no dataset")]
    [InlineData("task: {kind: regression}\nevaluation: {instances: [1]}", 2, 14, "evaluation.instances", "scored at every step")]
    public void Bad_regression_keys_are_reported_at_their_place(string section, int line, int column, string path, string message)
    {
        var error = SpecText.Errors("name: x\nmodel: {kind: lstm}\n" + section + "\n").Should().ContainSingle().Subject;
        (error.Position.Line - 2, error.Position.Column, error.Path).Should().Be((line, column, path));
        error.Message.Should().Contain(message);
    }

    [Fact]
    public void A_knn_has_nothing_to_regress_with()
    {
        var error = SpecText.Errors("name: x\nmodel: {kind: knn}\ntask: {kind: regression}\n").Should().ContainSingle().Subject;
        (error.Position.Line, error.Position.Column, error.Path).Should().Be((2, 15, "model.kind"));
        error.Message.Should().Contain("a regression needs a feedforward, lstm or mann model");
    }
}
