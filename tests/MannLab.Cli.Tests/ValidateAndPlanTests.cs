namespace MannLab.Cli.Tests;

/// <summary><c>mannlab validate</c> and <c>mannlab plan</c> run as processes on real files.</summary>
public class ValidateAndPlanTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Validate_accepts_good_files_and_exits_0()
    {
        _folder.Write("a.yaml", "name: a\nmodel: {kind: lstm}\n");
        _folder.Write("sub/b.yml", "name: b\nmodel: {kind: mann}\nsweep:\n  training.seed: [1, 2, 3]\n");

        var result = Mannlab.Run(_folder.Path, "validate", ".");

        result.ExitCode.Should().Be(0, result.Err);
        result.Err.Should().BeEmpty();
        result.Out.Should().Contain("a.yaml: ok (1 run)").And.Contain("b.yml: ok (3 runs)").And.Contain("2 files valid, 4 runs");
    }

    [Fact]
    public void Validate_reports_every_error_compiler_style_and_exits_1()
    {
        _folder.Write("good.yaml", "name: good\nmodel: {kind: lstm}\n");
        _folder.Write("bad.yaml", "name: bad\nmodel:\n  kind: lstm\n  memory: {slots: 3}\ntraining:\n  batch_size: lots\n");

        var result = Mannlab.Run(_folder.Path, "validate", "good.yaml", "bad.yaml");

        result.ExitCode.Should().Be(1);
        result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "bad.yaml:4:3: error: model.memory: 'memory' applies to kind: mann only (this model is lstm)",
            "bad.yaml:6:15: error: training.batch_size: expected a whole number, got 'lots'");
        result.Out.Should().Contain("good.yaml: ok").And.Contain("1 of 2 files invalid");
    }

    [Fact]
    public void Validate_reports_a_yaml_syntax_error_where_the_problem_is_and_changes_nothing()
    {
        var files = new Dictionary<string, string>
        {
            ["bracket.yaml"] = "name: x\nmodel:\n  kind: [mann\n",
            ["tab.yaml"] = "name: x\nmodel:\n\tkind: mann\n",
            ["middle.yaml"] = "name: x\nmodel: [mann\ntraining:\n  seed: 3\n", // YamlDotNet throws InvalidOperationException on it
        };
        foreach (var (name, text) in files) _folder.Write(name, text);

        var result = Mannlab.Run(_folder.Path, "validate", "bracket.yaml", "tab.yaml", "middle.yaml");

        result.ExitCode.Should().Be(1);
        result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "bracket.yaml:3:9: error: YAML syntax: '[' is never closed (no matching ']')",
            "tab.yaml:3:1: error: YAML syntax: a tab in the indentation: YAML indents with spaces only",
            "middle.yaml:2:8: error: YAML syntax: '[' is not closed before line 3 (no matching ']')");
        result.Out.Should().Contain("3 of 3 files invalid");
        foreach (var (name, text) in files) File.ReadAllText(_folder.Sub(name)).Should().Be(text);
    }

    [Fact]
    public void Validate_of_a_missing_file_names_it()
    {
        var result = Mannlab.Run(_folder.Path, "validate", "nowhere.yaml");
        result.ExitCode.Should().Be(1);
        result.Err.Should().StartWith("nowhere.yaml:1:1: error: cannot read the file");
    }

    [Fact]
    public void Validate_of_a_folder_without_specs_fails()
    {
        var result = Mannlab.Run(_folder.Path, "validate", ".");
        result.ExitCode.Should().Be(1);
        result.Err.Should().Contain("no spec files");
    }

    [Fact]
    public void Plan_prints_one_row_per_sweep_point()
    {
        _folder.Write("grid.yaml", "name: grid\nmodel: {kind: mann}\nsweep:\n  model.lrua.gamma: [0.9, 0.99]\n  training.seed: [1, 2]\n");

        var result = Mannlab.Run(_folder.Path, "plan", "grid.yaml");

        result.ExitCode.Should().Be(0, result.Err);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("grid.yaml: grid, 4 runs");
        lines[1].Should().MatchRegex(@"^#\s+run\s+model\.lrua\.gamma\s+training\.seed\s+architecture\s+task\s+episodes\s+seed$");
        lines.Skip(3).Should().HaveCount(4);
        lines[3].Should().MatchRegex(@"^0\s+[0-9a-f]{12}\s+0\.9\s+1\s+mann \(lstm 200, 128x40, 4 heads, lrua gamma 0\.9\)\s+5-way, 10 per class, one-hot\s+100000\s+1$");
        lines[6].Should().MatchRegex(@"^3\s+[0-9a-f]{12}\s+0\.99\s+2\s");
    }

    [Fact]
    public void Plan_names_each_model_of_a_swept_model_and_the_episodes_each_trains()
    {
        _folder.Write("models.yaml", "name: models\ntraining: {episodes: 5000}\nsweep:\n  model:\n    - {kind: knn}\n" +
                                     "    - {kind: knn, features: autoencoder}\n    - {kind: mann, lrua: {least_used: per-head}}\n");

        var result = Mannlab.Run(_folder.Path, "plan", "models.yaml");

        result.ExitCode.Should().Be(0, result.Err);
        var rows = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(3).ToList();
        rows[0].Should().MatchRegex(@"\sknn \(raw pixels\)\s.*\s0\s+0$", "kNN on raw pixels trains nothing, whatever training.episodes says");
        rows[1].Should().MatchRegex(@"\sknn \(autoencoder 200-200-32\)\s.*\s5000\s+0$");
        rows[2].Should().MatchRegex(@"\smann \(lstm 200, 128x40, 4 heads, lrua gamma 0\.95, per-head\)\s.*\s5000\s+0$");
    }

    [Fact]
    public void Plan_of_an_invalid_file_prints_errors_and_exits_1()
    {
        _folder.Write("bad.yaml", "name: x\nmodel: {kind: mann}\nsweep:\n  model.lrua.gama: [0.9]\n");
        var result = Mannlab.Run(_folder.Path, "plan", "bad.yaml");
        result.ExitCode.Should().Be(1);
        result.Err.Trim().Should().Be("bad.yaml:4:3: error: model.lrua.gama: unknown key 'gama' (did you mean 'gamma'?)");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Plan_of_a_folder_plans_every_file_and_exits_1_if_one_is_invalid()
    {
        _folder.Write("specs/a.yaml", "name: a\nmodel: {kind: lstm}\nsweep:\n  training.seed: [1, 2]\n");
        _folder.Write("specs/sub/b.yaml", "name: b\nmodel: {kind: feedforward}\n");
        _folder.Write("specs/sub/c.yaml", "name: c\nmodel: {kind: lstn}\n");

        var result = Mannlab.Run(_folder.Path, "plan", "specs");

        result.ExitCode.Should().Be(1);
        result.Out.Should().Contain("specs/a.yaml: a, 2 runs").And.Contain("specs/sub/b.yaml: b, 1 run");
        result.Err.Should().StartWith("specs/sub/c.yaml:2:");
    }

    /// <summary>Every command in the program's tree, found from the tree itself, so a new one cannot be missed.</summary>
    public static TheoryData<string> Commands() => [.. MannLab.Cli.Commands.Visible(MannLab.Cli.Commands.Root()).Select(p => string.Join(' ', p))];

    [Theory]
    [MemberData(nameof(Commands))]
    public void Every_command_has_help(string command)
    {
        var result = Mannlab.Run(_folder.Path, [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
        result.ExitCode.Should().Be(0, result.Err);
        result.Out.Should().Contain("Usage:").And.Contain("Description:");
    }

    [Fact]
    public void The_command_tree_holds_every_command_the_readme_documents()
    {
        var commands = MannLab.Cli.Commands.Visible(MannLab.Cli.Commands.Root()).Select(p => string.Join(' ', p)).ToList();
        commands.Should().Contain(["train", "bench", "inspect", "data info", "data fetch", "data show", "plot curves", "plot instances", "plot memory",
            "db url", "db psql", "db info", "db stop", "up", "submit", "worker", "runs", "cancel", "retry", "serve", "compare", "report paper", "validate", "plan"]);
        commands.Should().NotContain("_train", "the training process is the worker's, not a user's");
    }
}
