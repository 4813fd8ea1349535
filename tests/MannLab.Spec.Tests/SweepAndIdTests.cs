namespace MannLab.Spec.Tests;

/// <summary>Sweeps expand deterministically; run ids depend on the resolved spec and nothing else.</summary>
public class SweepAndIdTests
{
    private const string Grid =
        "name: grid\nmodel: {kind: mann}\nsweep:\n  model.lrua.gamma: [0.9, 0.95, 0.99]\n  training.seed: [1, 2]\n";

    [Fact]
    public void A_grid_expands_to_one_run_per_point_first_axis_slowest()
    {
        var runs = SpecText.Valid(Grid).Runs.ToList();
        runs.Should().HaveCount(6);
        runs.Select(r => r.PointText).Should().Equal(
            "model.lrua.gamma=0.9, training.seed=1", "model.lrua.gamma=0.9, training.seed=2",
            "model.lrua.gamma=0.95, training.seed=1", "model.lrua.gamma=0.95, training.seed=2",
            "model.lrua.gamma=0.99, training.seed=1", "model.lrua.gamma=0.99, training.seed=2");
        runs.Select(r => r.Index).Should().Equal(0, 1, 2, 3, 4, 5);
        runs.Select(r => (((Model.Mann)r.Spec.Model).mann.Access as Access.Lrua)!.lrua.Gamma)
            .Should().Equal(0.9, 0.9, 0.95, 0.95, 0.99, 0.99);
        runs.Select(r => r.Spec.Training.Seed).Should().Equal(1, 2, 1, 2, 1, 2);
        runs.Select(r => r.Id).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Point_values_are_resolved()
    {
        var run = SpecText.Valid("name: x\nmodel: {kind: lstm}\nsweep:\n  training.lr: [1e-4]\n  model: [{kind: mann}]\n").Runs.Head;
        run.Point[0].Resolved.Should().Be("0.0001");
        run.Point[1].Written.Should().Be("{kind: mann}");
        run.Point[1].Resolved.Should().Contain("\"slots\":128");
    }

    [Fact]
    public void A_later_key_at_its_default_resolves_to_its_value_though_the_canonical_form_leaves_it_out()
    {
        var runs = SpecText.Valid("name: x\nmodel: {kind: mann}\nsweep:\n  training.schedule: [constant, cosine]\n  model.lrua.key_strength: [none]\n").Runs;
        runs.Select(r => r.Point[0].Resolved).Should().Equal("\"constant\"", "\"cosine\"");
        runs.Select(r => r.Point[1].Resolved).Should().Equal("\"none\"", "\"none\"");
        runs[0].Json.Should().NotContain("schedule", "the run keeps the id it had before the key existed");
    }

    [Fact]
    public void The_same_text_gives_the_same_ids() =>
        SpecText.Valid(Grid).Runs.Select(r => r.Id).Should().Equal(SpecText.Valid(Grid).Runs.Select(r => r.Id));

    [Theory]
    [InlineData("name: x\nmodel: {kind: mann}\ntags: [new]\n")]
    [InlineData("name: x\ndescription: now described\nmodel: {kind: mann}\n")]
    [InlineData("name: x\nmodel: {kind: mann}\npriority: low\n")]
    public void Describing_or_rescheduling_a_run_keeps_its_id_but_records_a_new_file_version(string changed)
    {
        var baseline = SpecText.Valid("name: x\nmodel: {kind: mann}\n");
        var other = SpecText.Valid(changed);
        other.Runs.Head.Id.Should().Be(baseline.Runs.Head.Id, "nothing about what is trained changed, so it is not trained again");
        other.Hash.Should().NotBe(baseline.Hash);
    }

    [Fact]
    public void Comments_layout_and_explicit_defaults_do_not_change_ids()
    {
        var a = SpecText.Valid("name: x\nmodel: {kind: mann}\n");
        var b = SpecText.Valid("# a comment\nname: x\nmodel:\n  kind: mann   # trailing\n  memory:\n    slots: 128\ntraining:\n  lr: 0.0001\n");
        b.Runs.Head.Id.Should().Be(a.Runs.Head.Id);
        b.Hash.Should().Be(a.Hash);
    }

    [Theory]
    [InlineData("name: y\nmodel: {kind: mann}\n")]
    [InlineData("name: x\nmodel: {kind: mann, hidden: 201}\n")]
    [InlineData("name: x\nmodel: {kind: mann}\ntraining: {seed: 1}\n")]
    [InlineData("name: x\nmodel: {kind: mann, lrua: {key_strength: learned}}\n")]
    [InlineData("name: x\nmodel: {kind: mann, lrua: {write: add-vector}}\n")]
    public void Any_change_to_what_is_trained_gives_a_new_id(string changed)
    {
        var baseline = SpecText.Valid("name: x\nmodel: {kind: mann}\n");
        var other = SpecText.Valid(changed);
        other.Runs.Head.Id.Should().NotBe(baseline.Runs.Head.Id);
        other.Hash.Should().NotBe(baseline.Hash);
    }

    [Theory]
    [InlineData("name: x\nmodel: {kind: mann}\n")]
    [InlineData("name: x\nmodel: {kind: mann, lrua: {key_strength: none, write: key}}\n")]
    public void An_option_added_later_keeps_the_ids_runs_were_stored_under_at_its_default(string text) =>
        // The id this spec had before model.lrua.key_strength and write existed (MannLab at commit 22df414):
        // runs already in a database must be found again, not trained again.
        SpecText.Valid(text).Runs.Head.Id.Should().Be("36768c54be2e");

    [Fact]
    public void Ids_are_twelve_hex_digits() =>
        SpecText.Valid(Grid).Runs.ToList().Should().AllSatisfy(r => r.Id.Should().MatchRegex("^[0-9a-f]{12}$"));

    [Fact]
    public void A_canonical_spec_parses_back_to_the_same_spec()
    {
        foreach (var run in SpecText.Valid(Grid + "task: {labels: string, length: 60}\n").Runs
                     .Concat(SpecText.Valid("name: k\nmodel: {kind: mann, lrua: {key_strength: learned, write: add-vector}}\n").Runs))
        {
            var back = Experiments.specOfJson(run.Json);
            back.IsOk.Should().BeTrue(back.IsError ? back.ErrorValue.Head.ToString() : "");
            back.ResultValue.Should().Be(run.Spec);
            Canonical.runId(back.ResultValue).Should().Be(run.Id);
        }
    }

    [Fact]
    public void A_huge_grid_is_refused()
    {
        var values = "[" + string.Join(", ", Enumerable.Range(1, 101)) + "]";
        var errors = SpecText.Errors($"name: x\nmodel: {{kind: lstm}}\nsweep:\n  training.seed: {values}\n  training.threads: {values}\n");
        errors.Should().ContainSingle().Which.Message.Should().Contain("expands to 10201 runs");
    }
}
