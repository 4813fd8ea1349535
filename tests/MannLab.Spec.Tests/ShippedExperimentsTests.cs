namespace MannLab.Spec.Tests;

/// <summary>The specs shipped in experiments/ must all validate, and say what they claim.</summary>
public class ShippedExperimentsTests
{
    private static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MannLab.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("MannLab.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Every_shipped_spec_validates()
    {
        var files = Experiments.discover([Path.Combine(Root(), "experiments")]);
        files.Length.Should().BeGreaterThanOrEqualTo(6);
        foreach (var file in files)
        {
            var result = Experiments.load(file);
            result.IsOk.Should().BeTrue(result.IsError ? string.Join("\n", result.ErrorValue.Select(e => e.ToString())) : "");
        }
    }

    [Fact]
    public void Table2_covers_four_models_with_string_labels_at_5_and_15_way()
    {
        foreach (var (file, classes) in new[] { ("table2-5way.yaml", 5), ("table2-15way.yaml", 15) })
        {
            var runs = Experiments.load(Path.Combine(Root(), "experiments", "paper", file)).ResultValue.Runs;
            runs.Length.Should().Be(4);
            runs.ToList().Should().AllSatisfy(r => (r.Spec.Task.Classes, r.Spec.Task.Labels).Should().Be((classes, LabelEncoding.StringLabels)));
            runs[0].Spec.Model.Should().BeOfType<Model.Lstm>();
            var manns = runs.Skip(1).Select(r => ((Model.Mann)r.Spec.Model).mann).ToList();
            manns.Select(m => (m.Controller, m.Access.IsLrua)).Should().Equal(
                (ControllerKind.LstmController, true), (ControllerKind.FeedForwardController, true), (ControllerKind.LstmController, false));
        }
    }
}
