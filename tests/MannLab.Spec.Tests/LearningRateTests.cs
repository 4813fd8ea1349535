namespace MannLab.Spec.Tests;

/// <summary>training.schedule and training.warmup: the rate at each step, and how the keys are checked and hashed.</summary>
public class LearningRateTests
{
    private static Training Training(string keys) =>
        SpecText.Single($"name: x\nmodel: {{kind: mann}}\ntraining: {{optimizer: adam, lr: 0.002, batch_size: 8, episodes: 1000{keys}}}\n").Training;

    [Fact]
    public void Without_schedule_or_warm_up_every_step_takes_the_optimisers_rate()
    {
        var t = Training("");
        (t.Schedule, t.Warmup).Should().Be((Schedule.Constant, 0));
        new long[] { 0, 8, 496, 992 }.Select(e => LearningRate.at(t, e)).Should().AllBeEquivalentTo(0.002);
    }

    [Fact]
    public void Warm_up_rises_linearly_to_the_rate_by_the_episode_it_names()
    {
        var t = Training(", warmup: 80");
        LearningRate.at(t, 0).Should().BeApproximately(0.002 * 8 / 80, 1e-15, "the first step already moves");
        LearningRate.at(t, 32).Should().BeApproximately(0.002 * 40 / 80, 1e-15);
        LearningRate.at(t, 72).Should().Be(0.002, "the step that completes the warm-up");
        LearningRate.at(t, 992).Should().Be(0.002);
    }

    [Fact]
    public void Cosine_falls_from_the_rate_after_warm_up_to_near_zero_at_the_last_step()
    {
        var t = Training(", schedule: cosine, warmup: 200");
        LearningRate.at(t, 200).Should().Be(0.002);
        LearningRate.at(t, 600).Should().BeApproximately(0.001, 1e-15, "half way through the decay, half the rate");
        var last = LearningRate.at(t, 992);
        last.Should().BePositive().And.BeLessThan(0.002 * 1e-3);
        Enumerable.Range(25, 100).Select(i => LearningRate.at(t, i * 8L)).Should().BeInDescendingOrder();
    }

    [Fact]
    public void A_warm_up_as_long_as_the_run_is_refused_at_its_value() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntraining:\n  episodes: 500\n  warmup: 500\n", 5, 11, "training.warmup",
            "must be fewer than the episodes (500), got 500");

    [Fact]
    public void An_unknown_schedule_is_refused_with_the_ones_there_are() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntraining:\n  schedule: linear\n", 4, 13, "training.schedule",
            "expected one of constant, cosine, got 'linear'");

    [Fact]
    public void The_defaults_written_out_keep_the_run_id_a_spec_had_before_the_keys_existed()
    {
        var plain = SpecText.Valid("name: x\nmodel: {kind: mann}\n").Runs.Single();
        var spelled = SpecText.Valid("name: x\nmodel: {kind: mann}\ntraining: {schedule: constant, warmup: 0}\n").Runs.Single();
        var cosine = SpecText.Valid("name: x\nmodel: {kind: mann}\ntraining: {schedule: cosine}\n").Runs.Single();
        spelled.Id.Should().Be(plain.Id);
        plain.Json.Should().NotContain("schedule").And.NotContain("warmup");
        cosine.Id.Should().NotBe(plain.Id);
        cosine.Json.Should().Contain("\"schedule\":\"cosine\"");
    }
}
