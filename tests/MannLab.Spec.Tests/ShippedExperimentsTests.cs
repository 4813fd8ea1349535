using System.Text.Json.Nodes;

namespace MannLab.Spec.Tests;

/// <summary>The specs shipped in experiments/ must all validate, and say what they claim.</summary>
public class ShippedExperimentsTests
{
    internal static string Root()
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

    // The ids (and canonical JSON, through the file's hash) every shipped spec had before the
    // language moved to one schema (commit 10f028d). Runs stored under them must be found again,
    // so a change to the schema, the decoder or the canonical form must keep them. Editing a
    // shipped spec is the one good reason to change a line here.
    [Theory]
    [InlineData("paper/table1-feedforward.yaml", "346f28d6b8fd327d5cfd0857f466714ac945892a9f100425dccea27ded9fbfc4", new[] { "60156ee83622" })]
    [InlineData("paper/table1-lstm.yaml", "4966eb0025326013d4b86f6a3933db9749712bba99d74f79a4c6deeeb7f436d9", new[] { "9d9b5f24b12a" })]
    [InlineData("paper/table1-mann-extended.yaml", "fbb317e5523484096537d97a900066c9a5d696b669619c0e5dadb894e59d5b94", new[] { "f32b40625b4c" })]
    [InlineData("paper/table1-mann.yaml", "6182e0f5d58ab15ff3ef0d9b3b45df90cdcbeaf60269926066a8b55909f1f406", new[] { "3bc9bb639707", "bd5d5e61f8f1" })]
    [InlineData("paper/table2-15way.yaml", "98f288ec5a746eb689370ba1ec5c8af98a5aa14508dc5fce583360689fc75e7f", new[] { "2db67c2aa80e", "ac6353776edc", "6255d6cf9b9c", "fdc1983e1f4c" })]
    [InlineData("paper/table2-5way.yaml", "6e8e64526f1dd39fa089b7b24740a9d94fabbb427da4d5d846b7083108a24646", new[] { "851401eac8f2", "3fb6dda87009", "c061e46d5cc0", "1d686ebdb034" })]
    [InlineData("quickstart.yaml", "77a6bcfcd3c5c992803710cf6812d6355401cbf4d57260da9fbd29c037513f60", new[] { "d43b58100917", "9efb69a7b9b0" })]
    public void A_shipped_spec_keeps_its_run_ids_and_canonical_form(string file, string hash, string[] ids)
    {
        var experiment = Experiments.load(Path.Combine(Root(), "experiments", file)).ResultValue;
        experiment.Runs.Select(r => r.Id).Should().Equal(ids);
        experiment.Hash.Should().Be(hash, "the hash covers every run's canonical JSON, byte for byte");
    }

    [Fact]
    public void Every_shipped_spec_has_its_ids_pinned() =>
        Experiments.discover([Path.Combine(Root(), "experiments")]).Length.Should().Be(7, "a new shipped spec gets a line above");

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
