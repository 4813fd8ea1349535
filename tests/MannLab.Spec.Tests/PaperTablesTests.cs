using Microsoft.FSharp.Core;

namespace MannLab.Spec.Tests;

/// <summary>The paper's own spec for each row of its tables, and what a run's spec sets otherwise.</summary>
public class PaperTablesTests
{
    [Theory]
    [InlineData("table1", 5, "feedforward")]
    [InlineData("table1", 5, "lstm")]
    [InlineData("table1", 5, "mann")]
    [InlineData("table2", 5, "knn_raw_pixels")]
    [InlineData("table2", 15, "knn_deep_features")]
    [InlineData("table2", 5, "lstm")]
    [InlineData("table2", 15, "mann_lstm_controller")]
    [InlineData("table2", 15, "mann_feedforward_controller")]
    [InlineData("table2", 15, "mann_ntm_access_lstm_controller")]
    public void Every_trainable_row_has_the_papers_spec_and_it_differs_from_itself_in_nothing(string table, int classes, string model)
    {
        var reference = PaperTables.reference(table, classes, model);
        FSharpOption<Spec>.get_IsSome(reference).Should().BeTrue();
        var paper = reference!.Value;
        paper.Task.Classes.Should().Be(classes);
        paper.Task.Labels.Should().Be(table == "table1" ? LabelEncoding.OneHot : LabelEncoding.StringLabels);
        PaperTables.differences(paper, paper).ToList().Should().BeEmpty();
    }

    [Theory]
    [InlineData("table1", 5, "human")] // people
    [InlineData("table1", 5, "knn_raw_pixels")] // Table 1 has no kNN row
    [InlineData("table2", 10, "lstm")] // no such setting in the paper
    public void A_row_no_spec_trains_has_none(string table, int classes, string model) =>
        FSharpOption<Spec>.get_IsNone(PaperTables.reference(table, classes, model)).Should().BeTrue();

    [Fact]
    public void A_departure_is_shown_with_the_runs_value_and_the_papers()
    {
        var run = SpecText.Valid("name: x\ntask: {classes: 15, length: 100, labels: string}\nmodel: {kind: mann, lrua: {gamma: 0.95}}\n" +
                                 "training: {optimizer: adam, seed: 3}\n").Runs[0].Spec;
        var paper = PaperTables.reference("table2", 15, "mann_lstm_controller")!.Value;
        PaperTables.differences(run, paper).Select(d => $"{d.Item1}: {d.Item2} (paper: {d.Item3})").Should().Equal(
            "model.lrua.gamma: 0.95 (paper: 0.99)", "training.optimizer: adam (paper: rmsprop)", "training.lr: 0.001 (paper: 0.0001)");
    }

    [Fact]
    public void Another_episode_shape_or_a_curriculum_departs_but_evaluating_at_other_class_counts_does_not()
    {
        var run = SpecText.Valid("name: x\ntask: {classes: 5, length_per_class: 10, curriculum: {start: 2}}\nmodel: {kind: mann}\n" +
                                 "evaluation: {classes: [2, 4]}\n").Runs[0].Spec;
        PaperTables.differences(run, PaperTables.reference("table1", 5, "mann")!.Value).Select(d => $"{d.Item1}: {d.Item2} (paper: {d.Item3})").Should().Equal(
            "task.instances: none (paper: 10)", "task.length_per_class: 10 (paper: none)", "task.curriculum.start: 2 (paper: none)",
            "task.curriculum.add: 1 (paper: none)", "task.curriculum.every: 10000 (paper: none)");
    }

    [Fact]
    public void A_knn_departs_in_no_training_setting()
    {
        var run = SpecText.Valid("name: x\ntask: {classes: 5, labels: string}\nmodel: {kind: knn}\ntraining: {optimizer: adam, episodes: 10}\n").Runs[0].Spec;
        PaperTables.differences(run, PaperTables.reference("table2", 5, "knn_raw_pixels")!.Value).ToList().Should().BeEmpty();
        var deep = SpecText.Valid("name: x\ntask: {classes: 5, labels: string}\nmodel: {kind: knn, features: autoencoder, autoencoder: {code: 16}}\n" +
                                  "training: {episodes: 10}\n").Runs[0].Spec;
        PaperTables.differences(deep, PaperTables.reference("table2", 5, "knn_deep_features")!.Value).Select(d => d.Item1)
            .Should().Equal(["model.autoencoder.code"], "the paper does not say how its autoencoder was trained");
    }
}
