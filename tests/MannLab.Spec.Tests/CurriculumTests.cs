using System.Text.Json.Nodes;

namespace MannLab.Spec.Tests;

/// <summary>The curriculum (task.curriculum), the per-class episode length and evaluation at other class counts.</summary>
public class CurriculumTests
{
    private const string Paper = """
        name: curriculum
        model: {kind: mann}
        task:
          classes: 25
          length_per_class: 10
          labels: string
          curriculum: {start: 15}
        evaluation:
          instances: [1, 2, 3, 5, 10]
          classes: [5, 10, 15, 25, 50, 100]
        """;

    [Fact]
    public void The_papers_curriculum_adds_a_class_every_10000_episodes_up_to_the_tasks_classes()
    {
        var task = SpecText.Single(Paper).Task;
        task.Curriculum.Should().NotBeNull();
        task.Curriculum!.Value.Should().Be(new Curriculum(15, 1, 10_000), "add and every default to the paper's");
        task.Shape.Should().Be(EpisodeShape.NewLengthPerClass(10));
        new[] { 0L, 9_999, 10_000, 99_999, 100_000, 1_000_000_000_000 }.Select(e => task.ClassesAt(e)).ToList().Should().Equal(15, 15, 16, 24, 25, 25);
        task.LengthFor(task.ClassesAt(10_000)).Should().Be(160, "episodes are 10x their classes");
        SpecText.Single(Paper).Evaluation.Classes.ToList().Should().Equal(5, 10, 15, 25, 50, 100);
    }

    [Fact]
    public void The_curriculum_is_in_the_canonical_form_and_the_run_id_and_reads_back()
    {
        var run = SpecText.Valid(Paper).Runs.Head;
        var json = JsonNode.Parse(run.Json)!;
        json["task"]!["curriculum"]!.ToJsonString().Should().Be("""{"start":15,"add":1,"every":10000}""", "a feature's keys are written whenever it is used, defaults too");
        json["task"]!["length_per_class"]!.GetValue<int>().Should().Be(10);
        json["evaluation"]!["classes"]!.ToJsonString().Should().Be("[5,10,15,25,50,100]");
        SpecText.Single(run.Json).Should().Be(run.Spec, "the canonical form is YAML too, and means the same spec");

        var ids = new[] { Paper, Paper.Replace("{start: 15}", "{start: 15, every: 5000}"), Paper.Replace("  curriculum: {start: 15}\n", "") }
            .Select(text => SpecText.Valid(text).Runs.Head.Id).ToList();
        ids.Should().OnlyHaveUniqueItems("the schedule is part of what is trained");
    }

    [Fact]
    public void A_spec_without_the_new_keys_keeps_its_canonical_form()
    {
        var json = JsonNode.Parse(SpecText.Valid("name: x\nmodel: {kind: lstm}\n").Runs.Head.Json)!;
        json["task"]!.AsObject().Select(p => p.Key).Should().Equal("classes", "instances", "labels");
        json["evaluation"]!.AsObject().Select(p => p.Key).Should().Equal("every", "episodes", "instances");
    }

    [Theory]
    [InlineData("  curriculum: {start: 30}\n", 4, 23, "task.curriculum.start", "starts above task.classes (25)")]
    [InlineData("  curriculum: {start: 1}\n", 4, 23, "task.curriculum.start", "at least 2 classes, got 1")]
    [InlineData("  curriculum: {start: 15, add: 0}\n", 4, 32, "task.curriculum.add", "add must be greater than 0, got 0")]
    [InlineData("  curriculum: {start: 15, every: -5}\n", 4, 34, "task.curriculum.every", "every must be greater than 0, got -5")]
    [InlineData("  curriculum: {add: 2}\n", 4, 15, "task.curriculum.start", "missing required value 'start'")]
    [InlineData("  curriculum: {start: 15, stride: 2}\n", 4, 27, "task.curriculum.stride", "unknown key 'stride'")]
    public void A_bad_schedule_is_reported_at_its_field(string curriculum, int line, int column, string path, string message) =>
        SpecText.ShouldFailWith($"name: x\nmodel: {{kind: lstm}}\ntask:\n{curriculum}  classes: 25\n  length_per_class: 10\n  labels: string\n",
            line, column, path, message);

    [Fact]
    public void A_curriculum_needs_an_episode_length_that_follows_the_classes() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask:\n  classes: 10\n  length: 75\n  curriculum: {start: 5}\n",
            6, 15, "task.curriculum", "give 'instances' or 'length_per_class' instead of 'length'");

    [Fact]
    public void A_model_that_does_not_train_has_no_curriculum() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: knn}\ntask:\n  classes: 10\n  curriculum: {start: 5}\n",
            5, 15, "task.curriculum", "does not train");

    [Fact]
    public void An_episode_has_one_shape() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask:\n  instances: 10\n  length_per_class: 10\n",
            5, 21, "task.length_per_class", "give one of 'instances' (per class), 'length' (steps per episode) and 'length_per_class'");

    [Theory]
    [InlineData("one-hot", "[5, 1]", 5, 16, "evaluation.classes[1]", "at least 2 classes, got 1")]
    [InlineData("one-hot", "[5, 50]", 5, 16, "evaluation.classes[1]", "one-hot labels encode task.classes (25) classes, got 50")]
    [InlineData("string", "[5, 4000]", 5, 16, "evaluation.classes[1]", "string labels can name at most 3125 classes, got 4000")]
    [InlineData("string", "[50, 10, 50]", 5, 21, "evaluation.classes[2]", "50 classes is listed twice")]
    public void A_bad_class_count_to_evaluate_at_is_reported_where_it_stands(string labels, string classes, int line, int column, string path, string message) =>
        SpecText.ShouldFailWith($"name: x\nmodel: {{kind: lstm}}\ntask: {{classes: 25, instances: 10, labels: {labels}}}\nevaluation:\n  classes: {classes}\n",
            line, column, path, message);

    [Fact]
    public void Other_class_counts_need_an_episode_length_that_follows_the_classes() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask: {classes: 10, length: 75}\nevaluation:\n  classes: [5, 8]\n",
            5, 12, "evaluation.classes", "give task.instances or task.length_per_class");
}
