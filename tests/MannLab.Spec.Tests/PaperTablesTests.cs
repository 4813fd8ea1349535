using Microsoft.FSharp.Core;

namespace MannLab.Spec.Tests;

/// <summary>The paper's own spec for each row of its tables, and what a run's spec sets otherwise.</summary>
public class PaperTablesTests
{
    [Theory]
    [InlineData("table1", 5, "feedforward")]
    [InlineData("table1", 5, "lstm")]
    [InlineData("table1", 5, "mann")]
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
    [InlineData("table2", 5, "knn_deep_features")] // no spec trains it yet
    [InlineData("table2", 10, "lstm")] // no such setting in the paper
    public void A_row_no_spec_trains_has_none(string table, int classes, string model) =>
        FSharpOption<Spec>.get_IsNone(PaperTables.reference(table, classes, model)).Should().BeTrue();

    [Fact]
    public void A_shipped_table2_run_differs_from_the_paper_in_its_usage_decay_and_nothing_it_does_not_set()
    {
        var run = SpecText.Valid(File.ReadAllText(Path.Combine(ShippedExperimentsTests.Root(), "experiments", "paper", "table2-15way.yaml"))).Runs[1].Spec;
        var paper = PaperTables.reference("table2", 15, "mann_lstm_controller")!.Value;
        PaperTables.differences(run, paper).Select(d => $"{d.Item1}: {d.Item2} (paper: {d.Item3})").Should().Equal("model.lrua.gamma: 0.95 (paper: 0.99)");
    }
}
