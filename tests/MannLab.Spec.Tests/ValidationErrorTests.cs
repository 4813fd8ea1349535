namespace MannLab.Spec.Tests;

/// <summary>Every kind of validation error, each with its exact line, column and field path.</summary>
public class ValidationErrorTests
{
    // Syntax errors are reported where the problem is: where an unclosed bracket or quote opens,
    // where a tab stands, at the character that stops the scanner; never at the end of the file.

    [Theory]
    [InlineData("name: x\nmodel:\n  kind: [mann\n", 3, 9, "'[' is never closed (no matching ']')")]
    [InlineData("name: x\nmodel:\n  kind: [mann", 3, 9, "'[' is never closed (no matching ']')")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [a,\n  b,\n  c\n\n# the end\n", 3, 7, "'[' is never closed (no matching ']')")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [a, b\ntraining:\n  seed: 3\n", 3, 7, "'[' is not closed before line 4 (no matching ']')")]
    [InlineData("name: x\nmodel:\n  kind: lstm\n  tags: [a\n  hidden: 3\n", 4, 9, "'[' is not closed before line 5 (no matching ']')")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [a, [b]\n", 3, 7, "'[' is never closed (no matching ']')")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [[a], [b\n", 3, 13, "'[' is never closed (no matching ']')")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [a\n---\nname: y\n", 3, 7, "'[' is not closed before line 4 (no matching ']')")]
    [InlineData("name: x\nmodel: {kind: lstm\n", 2, 8, "'{' is never closed (no matching '}')")]
    [InlineData("name: x\nmodel: {kind: lstm\ntraining:\n  seed: 3\n", 2, 8, "'{' is not closed before line 3 (no matching '}')")]
    public void An_unclosed_bracket_is_reported_where_it_opens(string yaml, int line, int column, string message) =>
        SpecText.ShouldFailWith(yaml, line, column, "", "YAML syntax: " + message);

    [Theory]
    [InlineData("model: {kind: lstm}\nname: \"x\n", 2, 7, "'\"' is never closed (no matching '\"')")]
    [InlineData("model: {kind: lstm}\nname: 'x\n", 2, 7, "\"'\" is never closed (no matching \"'\")")]
    [InlineData("name: \"x\nmodel: {kind: lstm}\n", 1, 7, "'\"' is not closed before line 2 (no matching '\"')")]
    [InlineData("name: \"x\n---\n\"\n", 1, 7, "'\"' is not closed before line 2 (no matching '\"')")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [a, \"b]\n", 3, 11, "'\"' is never closed (no matching '\"')")]
    public void An_unclosed_quote_is_reported_where_it_opens(string yaml, int line, int column, string message) =>
        SpecText.ShouldFailWith(yaml, line, column, "", "YAML syntax: " + message);

    [Theory]
    [InlineData("name: x\nmodel:\n\tkind: mann\n", 3, 1)]
    [InlineData("name: x\nmodel:\n  kind: mann\ntraining:\n\tseed: 3\n", 5, 1)]
    [InlineData("name: x\nmodel:\n  kind: mann\n\thidden: 3\n", 4, 1)]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags:\n  - a\n\t- b\n", 5, 1)]
    [InlineData("name: |\n  a\n\tb\nmodel: {kind: lstm}\n", 3, 1)]
    [InlineData("\tname: x\nmodel: {kind: lstm}\n", 1, 1)] // YamlDotNet skips it, then fails at line 2
    [InlineData("name: x\nmodel:\n  \tkind: mann\n", 3, 3)] // YamlDotNet takes it as indentation without a word
    [InlineData("name: x\nmodel:\n  kind: mann\n  lrua:\n   \tgamma: 0.9\n", 5, 4)]
    public void A_tab_in_the_indentation_is_reported_where_it_stands(string yaml, int line, int column) =>
        SpecText.ShouldFailWith(yaml, line, column, "", "YAML syntax: a tab in the indentation: YAML indents with spaces only");

    [Theory]
    [InlineData("name:\tx\nmodel: {kind: lstm}\n")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags: [a,\n\tb]\n")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntags:\n  -\ta\n")]
    public void A_tab_that_separates_rather_than_indents_is_allowed(string yaml) =>
        SpecText.Single(yaml).Name.Should().Be("x");

    [Theory]
    [InlineData("name: \"a\\qb\"\nmodel: {kind: lstm}\n", 1, 9, "found unknown escape character")]
    [InlineData("name: \"\\xZZ\"\nmodel: {kind: lstm}\n", 1, 10, "did not find expected hexadecimal number")]
    [InlineData("name: | junk\n  a\nmodel: {kind: lstm}\n", 1, 9, "did not find expected comment or line break")]
    [InlineData("model: {kind: lstm}\nname: &[ x\n", 2, 8, "found value containing disallowed")]
    [InlineData("model: {kind: lstm}\nname: @x\n", 2, 7, "found character that cannot start any token")]
    public void A_scanner_error_is_at_the_character_that_stops_it(string yaml, int line, int column, string message) =>
        SpecText.ShouldFailWith(yaml, line, column, "", message);

    [Fact]
    public void An_error_inside_a_closed_bracket_stays_where_the_parser_finds_it() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntags: [a,\n  b: c: d]\n", 4, 7, "",
            "YAML syntax: While parsing a flow sequence, did not find expected ',' or ']'");

    [Fact]
    public void Bad_indentation_is_a_syntax_error_at_the_misplaced_key() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  kind: mann\n hidden: 3\n", 4, 2, "", "YAML syntax: While parsing a block mapping");

    [Fact]
    public void An_undefined_alias_is_a_syntax_error_at_the_alias() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntags: [a, *nope]\n", 3, 11, "", "YAML syntax: unknown alias *nope");

    [Fact]
    public void Anchors_and_aliases_are_followed()
    {
        var spec = SpecText.Single("name: x\nmodel: &m {kind: lstm, hidden: 64}\nsweep:\n  model: [*m]\n");
        spec.Model.Should().Be(Model.NewLstm(64));
    }

    [Fact]
    public void Unknown_top_level_key_suggests_the_closest() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: mann}\ntrainig:\n  seed: 3\n", 3, 1, "trainig",
            "unknown key 'trainig' (did you mean 'training'?)");

    [Fact]
    public void Unknown_nested_key_suggests_the_closest() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  kind: mann\n  lrua:\n    gama: 0.9\n", 5, 5, "model.lrua.gama",
            "unknown key 'gama' (did you mean 'gamma'?)");

    [Fact]
    public void Unknown_key_with_nothing_close_has_no_suggestion()
    {
        var errors = SpecText.Errors("name: x\nmodel: {kind: lstm}\nwibble: 3\n");
        errors.Should().ContainSingle().Which.Message.Should().Be("unknown key 'wibble'");
    }

    [Fact]
    public void Wrong_type_points_at_the_value() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntraining:\n  batch_size: sixteen\n", 4, 15, "training.batch_size",
            "expected a whole number, got 'sixteen'");

    [Fact]
    public void A_quoted_number_is_text_not_a_number() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntraining:\n  lr: \"0.001\"\n", 4, 7, "training.lr",
            "expected a number, got the quoted text \"0.001\"");

    [Fact]
    public void A_list_where_a_section_belongs_is_a_type_error() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  - kind\n", 3, 3, "model", "expected a section");

    [Fact]
    public void Wrong_enum_value_lists_the_choices_and_suggests() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  kind: man\n", 3, 9, "model.kind",
            "expected one of feedforward, lstm, mann, knn, got 'man' (did you mean 'mann'?)");

    [Fact]
    public void Missing_name_is_reported_at_the_top() =>
        SpecText.ShouldFailWith("model:\n  kind: lstm\n", 1, 1, "name", "missing required value 'name'");

    [Fact]
    public void Missing_model_kind_is_reported_at_the_model_section() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  hidden: 100\n", 3, 3, "model.kind", "missing required value 'kind'");

    [Fact]
    public void Empty_file_is_an_error() =>
        SpecText.ShouldFailWith("# nothing here\n", 1, 1, "", "the file is empty");

    [Theory]
    [InlineData("1.5")]
    [InlineData("0")]
    [InlineData("-0.1")]
    public void Gamma_outside_0_1_is_out_of_range(string gamma) =>
        SpecText.ShouldFailWith($"name: x\nmodel:\n  kind: mann\n  lrua:\n    gamma: {gamma}\n", 5, 12, "model.lrua.gamma",
            "must be in (0, 1]");

    [Fact]
    public void Gamma_of_exactly_1_is_allowed() =>
        SpecText.Single("name: x\nmodel:\n  kind: mann\n  lrua:\n    gamma: 1\n").Model.Should().NotBeNull();

    [Theory]
    [InlineData("memory:\n    slots: 0", 5, 12, "model.memory.slots")]
    [InlineData("memory:\n    width: -3", 5, 12, "model.memory.width")]
    [InlineData("hidden: 0", 4, 11, "model.hidden")]
    public void Sizes_must_be_positive(string yaml, int line, int column, string path) =>
        SpecText.ShouldFailWith($"name: x\nmodel:\n  kind: mann\n  {yaml}\n", line, column, path, "must be greater than 0");

    [Fact]
    public void String_labels_cannot_name_more_than_3125_classes()
    {
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask:\n  classes: 3126\n  length: 50\n  labels: string\n", 4, 12,
            "task.classes", "string labels can name at most 3125 classes");
        SpecText.Single("name: x\nmodel: {kind: lstm}\ntask:\n  classes: 3125\n  length: 50\n  labels: string\n")
            .Task.Classes.Should().Be(3125);
    }

    [Fact]
    public void Evaluation_instances_beyond_the_instances_per_class_are_out_of_range() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask:\n  instances: 5\nevaluation:\n  instances: [1, 2, 6]\n", 6, 21,
            "evaluation.instances[2]", "instance 6 is out of range");

    [Fact]
    public void Instances_per_class_beyond_omniglots_drawers_is_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask:\n  instances: 21\n", 4, 14, "task.instances",
            "at most 20 instances per class");

    [Fact]
    public void Duplicate_keys_are_reported_at_the_second_one() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  kind: mann\n  hidden: 100\n  hidden: 200\n", 5, 3, "model.hidden",
            "duplicate key 'hidden' (first given at line 4)");

    [Fact]
    public void Memory_on_an_lstm_model_is_an_error_not_ignored() =>
        SpecText.ShouldFailWith("name: x\nmodel:\n  kind: lstm\n  memory:\n    slots: 64\n", 4, 3, "model.memory",
            "'memory' applies to kind: mann only (this model is lstm)");

    [Fact]
    public void Rmsprop_settings_on_adam_are_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntraining:\n  optimizer: adam\n  momentum: 0.5\n", 5, 3,
            "training.momentum", "'momentum' applies to optimizer: rmsprop only");

    [Fact]
    public void Instances_and_length_together_are_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\ntask:\n  instances: 10\n  length: 50\n", 5, 11, "task.length",
            "give one of 'instances' (per class), 'length' (steps per episode) and 'length_per_class', not 'instances' and 'length'");

    [Fact]
    public void Sweep_over_an_unknown_path_is_reported_at_the_sweep_line() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: mann}\nsweep:\n  model.lrua.gama: [0.9, 0.99]\n", 4, 3, "model.lrua.gama",
            "unknown key 'gama' (did you mean 'gamma'?)");

    [Fact]
    public void Sweep_with_an_empty_list_is_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: mann}\nsweep:\n  training.seed: []\n", 4, 18, "sweep.training.seed",
            "an empty list");

    [Fact]
    public void Sweep_with_a_single_value_instead_of_a_list_is_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: mann}\nsweep:\n  training.seed: 3\n", 4, 18, "sweep.training.seed",
            "expected a list of values");

    [Fact]
    public void Sweep_below_a_value_is_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: mann}\nsweep:\n  model.kind.x: [1]\n", 4, 3, "sweep.model.kind.x",
            "'kind' holds a value, not a section");

    [Fact]
    public void A_bad_sweep_value_is_reported_at_that_value() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: mann}\nsweep:\n  model.lrua.gamma: [0.9, 1.5]\n", 4, 27, "model.lrua.gamma",
            "must be in (0, 1]");

    [Fact]
    public void Every_problem_is_reported_at_once_in_file_order()
    {
        var errors = SpecText.Errors(
            "modle: 1\n" +
            "model:\n" +
            "  kind: lstm\n" +
            "  memory: {slots: 3}\n" +
            "training:\n" +
            "  batch_size: many\n" +
            "  lr: -1\n");
        errors.Select(e => (e.Position.Line, e.Path)).Should().Equal(
            (1, "name"), (1, "modle"), (4, "model.memory"), (6, "training.batch_size"), (7, "training.lr"));
        errors.Select(e => e.ToString()).Should().AllSatisfy(s => s.Should().MatchRegex(@"^spec\.yaml:\d+:\d+: error: "));
    }

    [Fact]
    public void Two_documents_in_one_file_is_an_error() =>
        SpecText.ShouldFailWith("name: x\nmodel: {kind: lstm}\n---\nname: y\n", 3, 1, "", "one YAML document");
}
