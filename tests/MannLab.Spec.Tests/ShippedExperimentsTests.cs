using System.Text.Json.Nodes;

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

    [Fact]
    public void The_extended_table1_mann_differs_from_the_papers_only_in_its_two_lrua_extensions()
    {
        Run Load(string file, int point) => Experiments.load(Path.Combine(Root(), "experiments", "paper", file)).ResultValue.Runs[point];
        var paper = Load("table1-mann.yaml", 1); // the per-head point of the paper's sweep
        var extended = Load("table1-mann-extended.yaml", 0);

        var lrua = ((Access.Lrua)((Model.Mann)extended.Spec.Model).mann.Access).lrua;
        (lrua.LeastUsed, lrua.LearnedKeyStrength, lrua.AddVector).Should().Be((LeastUsedRule.PerHead, true, true));
        // Their canonical forms, without what only names or describes them and the two extensions.
        JsonNode Trained(Run run)
        {
            var json = JsonNode.Parse(run.Json)!.AsObject();
            foreach (var key in new[] { "name", "description", "tags" }) json.Remove(key);
            json["model"]!["lrua"]!.AsObject().Remove("key_strength");
            json["model"]!["lrua"]!.AsObject().Remove("write");
            return json;
        }
        JsonNode.DeepEquals(Trained(extended), Trained(paper)).Should().BeTrue(
            "budget, optimiser, task, data and evaluation are Table 1's:\n" + Trained(extended).ToJsonString() + "\n" + Trained(paper).ToJsonString());
    }
}
