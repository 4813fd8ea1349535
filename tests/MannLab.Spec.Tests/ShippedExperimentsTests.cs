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
    [InlineData("paper/table2-15way.yaml", "42a0a3a9b738b48b431118da07b92ad02652409011cccc21b5cdd248a4787523", new[] { "4bd2bd986c1a", "e8ce80106f48", "7285303d4948", "a9d8cdc56f20", "e5d171e5fd87", "90b8312c4fbd", "4d8453dd954f", "02871025e069", "9b9a38d78a01", "c7f9f27f76e6", "c9ffc2a8b934", "ee7f9f122f0f", "407af06169ac", "c0b7d250c2c5", "8ef222282200", "56114a54ad64" })]
    [InlineData("paper/table2-5way.yaml", "9b16682434eaa7c908ab27ebe12dbb6b077ce3bdcfa94bd3051da8bf084e3ac4", new[] { "f61e40c68401", "383aaa84e0e3", "8df2e21cd9a6", "7474af928b7c", "d6653b0cad0f", "937de49dbf21", "c04c8ab6e8d8", "d213e53c44d6", "5c396add5b7b", "c6ba8f280277", "fa4402fdbf4e", "87507c20770b", "9cd942cd5382", "faeedf4e0c13" })]
    [InlineData("paper/table2-rmsprop.yaml", "a3841e5186303bff41151b67e85b23ef531703028bb372a1b59a7a51c8eab8f3", new[] { "0ac3b7cafd7b", "d020aee3a478", "4a7b256f0b12", "edff7919b788" })]
    [InlineData("paper/persistent-memory.yaml", "a425c47fa215387ebdf965265bdf0ebd8746cc19846a052176cb018c5d16959f", new[] { "8f35d622f72b", "a993ddfd99da", "5baf7a3c8b0f", "7762a032c266" })]
    [InlineData("paper/curriculum.yaml", "24f27e38ce48711e8c296b5f6a3c9ffbe3ba7241784cebdb8623283bc0c6ad35", new[] { "df497dcd0343", "9e3c6695fcdb", "77d2b81c9ff0", "387474706a2d" })]
    [InlineData("paper/regression.yaml", "dc7ac1df9e83b8228d3e6017c26bf39887039e6e068a073c86e6319e961d2a9d",
        new[] { "f956af145d71", "e8007e5b20d6", "d7ebf520c352", "c99ba8fc502e", "bd350a2b6e3f", "540b74e476df" })]
    [InlineData("quickstart.yaml", "77a6bcfcd3c5c992803710cf6812d6355401cbf4d57260da9fbd29c037513f60", new[] { "d43b58100917", "9efb69a7b9b0" })]
    public void A_shipped_spec_keeps_its_run_ids_and_canonical_form(string file, string hash, string[] ids)
    {
        var experiment = Experiments.load(Path.Combine(Root(), "experiments", file)).ResultValue;
        experiment.Runs.Select(r => r.Id).Should().Equal(ids);
        experiment.Hash.Should().Be(hash, "the hash covers every run's canonical JSON, byte for byte");
    }

    [Fact]
    public void Every_shipped_spec_has_its_ids_pinned() =>
        Experiments.discover([Path.Combine(Root(), "experiments")]).Length.Should().Be(11, "a new shipped spec gets a line above");

    private static Run[] Runs(string file) => Experiments.load(Path.Combine(Root(), "experiments", "paper", file)).ResultValue.Runs.ToArray();

    /// <summary>The trained settings in which a run is not the paper's row (PaperTables.differences), by path.</summary>
    private static string[] Departures(Run run, int classes, string row) =>
        [.. PaperTables.differences(run.Spec, PaperTables.reference("table2", classes, row)!.Value).Select(d => d.Item1)];

    [Theory]
    [InlineData("table2-5way.yaml", 5)]
    [InlineData("table2-15way.yaml", 15)]
    public void Table2_trains_every_row_of_the_paper_and_the_extended_mann_with_two_seeds_and_departs_only_in_the_optimiser(string file, int classes)
    {
        var runs = Runs(file);
        runs.Should().AllSatisfy(r => (r.Spec.Task.Classes, r.Spec.Task.Labels).Should().Be((classes, LabelEncoding.StringLabels)));
        string[] adam = ["training.optimizer", "training.lr"];
        var rows = new List<(string Row, string[] Departures)>
        {
            ("knn_raw_pixels", []), // trains nothing, so the optimiser is no departure
            ("knn_deep_features", []), // the paper does not say how it trained the autoencoder
            ("feedforward", adam),
            ("lstm", adam),
            ("mann_feedforward_controller", adam),
            ("mann_lstm_controller", adam),
            ("mann_lstm_controller", ["model.lrua.least_used", "model.lrua.key_strength", "model.lrua.write", .. adam]), // MannLab's MANN
        };
        if (classes == 15) rows.Add(("mann_ntm_access_lstm_controller", adam)); // the paper has it at 15 classes only
        foreach (var (row, departures) in rows)
            runs.Where(r => Departures(r, classes, row).SequenceEqual(departures)).Select(r => r.Spec.Training.Seed)
                .Should().BeEquivalentTo([0, 1], $"{row} departing in [{string.Join(", ", departures)}] is run with two seeds");
        runs.Should().HaveCount(2 * rows.Count, "nothing else is trained");
    }

    [Fact]
    public void Table2_with_the_papers_optimiser_departs_from_the_paper_in_nothing()
    {
        var runs = Runs("table2-rmsprop.yaml");
        runs.Select(r => (r.Spec.Task.Classes, r.Spec.Training.Seed)).Should().Equal((15, 0), (15, 1), (5, 0), (5, 1));
        runs.Should().AllSatisfy(r => Departures(r, r.Spec.Task.Classes, "mann_lstm_controller").Should().BeEmpty());
    }

    [Fact]
    public void The_persistent_memory_comparison_pairs_each_setting_wiped_and_persistent_and_differs_in_nothing_else()
    {
        var runs = Runs("persistent-memory.yaml");
        runs.Select(r => (r.Spec.Task.Classes, r.Spec.Task.Shape, ((Model.Mann)r.Spec.Model).mann.Memory.Persistent)).Should().Equal(
            (5, EpisodeShape.NewInstancesPerClass(10), false), (5, EpisodeShape.NewInstancesPerClass(10), true),
            (10, EpisodeShape.NewLength(75), false), (10, EpisodeShape.NewLength(75), true));
        JsonNode Trained(Run run)
        {
            var json = JsonNode.Parse(run.Json)!.AsObject();
            json.Remove("task");
            json["model"]!["memory"]!.AsObject().Remove("persistent");
            return json;
        }
        runs.Select(Trained).Should().AllSatisfy(j => JsonNode.DeepEquals(j, Trained(runs[0])).Should().BeTrue(j.ToJsonString()));
        Trained(runs[0])["model"]!["lrua"]!.ToJsonString().Should().Contain("per-head").And.Contain("learned").And.Contain("add-vector");
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
