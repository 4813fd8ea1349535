using System.Text.Json.Nodes;

namespace MannLab.Spec.Tests;

/// <summary>The schema is the one description of the language: the decoder, the canonical form and the README agree with it.</summary>
public class SchemaTests
{
    private const string Begin = "<!-- spec-reference:begin -->\n", End = "\n<!-- spec-reference:end -->";

    [Fact]
    public void The_readmes_reference_is_the_schemas_table()
    {
        var readme = File.ReadAllText(Path.Combine(ShippedExperimentsTests.Root(), "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf(Begin, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        (start >= 0 && end > start).Should().BeTrue("the README marks its reference with " + Begin.Trim() + " and " + End.Trim());
        readme[(start + Begin.Length)..end].Should().Be(Schema.reference,
            "the README's reference is generated from src/MannLab.Spec/Schema.fs; paste this between the markers:\n" + Schema.reference);
    }

    // Between them these specs take every branch of the language: each source, split, shape,
    // model, access, optimizer, and the later keys (LRUA options, the schedule, the kNN's features) away from their defaults.
    private static readonly string[] Branches =
    [
        "name: a\nmodel: {kind: mann, lrua: {key_strength: learned, write: add-vector}}\n",
        "name: b\nmodel: {kind: mann, access: ntm, controller: feedforward}\ndataset: {source: synthetic, split: background-evaluation}\n",
        "name: c\nmodel: {kind: lstm}\ntask: {length: 60, labels: string}\ntraining: {optimizer: adam, schedule: cosine, warmup: 1000}\n",
        "name: d\nmodel: {kind: knn, features: autoencoder, autoencoder: {hidden: 100, code: 16}}\n",
        "name: e\nmodel: {kind: lstm}\ntask: {classes: 20, length_per_class: 10, curriculum: {start: 5}}\nevaluation: {classes: [10]}\n",
        "name: f\nmodel: {kind: mann}\ntask: {kind: regression}\n",
    ];

    private static IEnumerable<string> Leaves(JsonObject json, string prefix = "") =>
        json.SelectMany(p => p.Value is JsonObject inner ? Leaves(inner, prefix + p.Key + ".") : [prefix + p.Key]);

    [Fact]
    public void The_canonical_form_writes_exactly_the_tables_keys_in_its_order()
    {
        var table = Schema.fields.Select(f => f.Path).ToList();
        table.Should().OnlyHaveUniqueItems();
        var written = Branches.Select(text => Leaves(JsonNode.Parse(SpecText.Valid(text).Runs.Head.Json)!.AsObject()).ToList()).ToList();
        written.SelectMany(keys => keys).Distinct().Should().BeEquivalentTo(table, "every key of the table is written for some spec, and no other");
        foreach (var keys in written) keys.Should().Equal(table.Where(keys.Contains), "the canonical form keeps the table's order");
    }

    [Theory]
    [InlineData("name: x\nmodel: {kind: mann}\n", "model.kind")]
    [InlineData("name: x\nmodel: {kind: mann, access: ntm}\ndataset: {source: synthetic}\n", "model.kind model.access dataset.source")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntraining: {optimizer: adam}\n", "model.kind training.optimizer")]
    [InlineData("name: x\nmodel: {kind: lstm}\ntask: {kind: regression}\n", "model.kind task.kind")]
    public void Every_default_the_table_shows_is_the_one_the_decoder_gives(string text, string given)
    {
        var spec = SpecText.Single(text);
        // Keys whose default another key decides show that rule instead of a value; they are left out.
        var fixedDefaults = Schema.fields.Where(f => f.Plain is not null && f.Default == Schema.show(f.Plain.Value) && !given.Split(' ').Contains(f.Path));
        foreach (var field in fixedDefaults)
            if (field.Of.Invoke(spec) is { } value)
                value.Value.Should().Be(field.Plain!.Value, field.Path);
    }

    /// <summary>
    /// The table's "applies when" conditions of a key, as (path, the values it may have) pairs:
    /// "model.kind: feedforward | lstm | mann". "task.length not given" and its twin are the
    /// episode's shape, not a condition on a value.
    /// </summary>
    private static List<(string Path, string[] Values)> Conditions(Schema.Field field) =>
        field.Applies.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(c => c.Split(": ")).Select(c => (c[0], c[1].Split(" | "))).ToList();

    /// <summary>A spec text with each dotted path set to its value (a model kind when none is given).</summary>
    private static string SpecWith(IEnumerable<(string Path, string Value)> settings)
    {
        var root = new SortedDictionary<string, object>(StringComparer.Ordinal) { ["name"] = "applies" };
        foreach (var (path, value) in settings.Prepend(("model.kind", "lstm")))
        {
            var parts = path.Split('.');
            var section = root;
            foreach (var part in parts[..^1])
                section = (SortedDictionary<string, object>)(section.TryGetValue(part, out var inner) ? inner : section[part] = new SortedDictionary<string, object>(StringComparer.Ordinal));
            section[parts[^1]] = value;
        }
        static IEnumerable<string> Lines(SortedDictionary<string, object> section, string indent) => section.SelectMany(e => e.Value is SortedDictionary<string, object> inner
            ? Lines(inner, indent + "  ").Prepend($"{indent}{e.Key}:")
            : [$"{indent}{e.Key}: {e.Value}"]);
        return string.Join("\n", Lines(root, "")) + "\n";
    }

    [Fact]
    public void Each_key_is_accepted_exactly_where_the_table_says_it_applies()
    {
        // "... not given" is the episode's shape, "... given" a section's presence: neither is a condition on a value.
        var conditional = Schema.fields.Where(f => f.Applies != "" && !f.Applies.EndsWith(" given")).ToList();
        conditional.Should().HaveCountGreaterThan(15);
        foreach (var field in conditional)
        {
            var conditions = Conditions(field);
            var holding = conditions.Select(c => (c.Path, c.Values[0])).ToList();
            var key = (field.Path, Schema.show(field.Plain!.Value));
            // Where every condition holds, with any of the values it allows, the key at its default is no error.
            foreach (var (path, values) in conditions)
                foreach (var value in values)
                    SpecText.Valid(SpecWith([.. holding.Where(c => c.Path != path), (path, value), key]));
            // Where one does not, whatever else holds, the decoder refuses the key (or the section it is in).
            foreach (var broken in conditions)
            {
                var words = Schema.fields.Single(f => f.Path == broken.Path).Type.Split(" | ");
                foreach (var other in words.Where(w => !broken.Values.Contains(w)))
                {
                    var text = SpecWith([.. holding.Where(c => c.Path != broken.Path), (broken.Path, other), key]);
                    SpecText.Errors(text).Should().Contain(e => e.Path == field.Path || field.Path.StartsWith(e.Path + "."),
                        $"{field.Path} applies when {field.Applies}, and here {broken.Path} is {other}:\n{text}");
                }
            }
        }
    }

    [Fact]
    public void A_key_added_later_is_written_only_away_from_its_default()
    {
        var later = Schema.fields.Where(f => f.Since > 1).Select(f => f.Path.Split('.').Last()).ToList();
        later.Should().Equal("kind", "length_per_class", "start", "add", "every", "dimensions", "points", "x_low", "x_high", "length_scale", "signal_variance",
            "noise_variance", "features", "hidden", "code", "key_strength", "write", "schedule", "warmup", "classes");
        var lrua = (JsonObject)JsonNode.Parse(SpecText.Valid("name: x\nmodel: {kind: mann}\n").Runs.Head.Json)!["model"]!["lrua"]!;
        lrua.Select(p => p.Key).Should().Equal("gamma", "least_used");
        var extended = (JsonObject)JsonNode.Parse(SpecText.Valid(Branches[0]).Runs.Head.Json)!["model"]!["lrua"]!;
        extended.Select(p => p.Key).Should().Equal("gamma", "least_used", "key_strength", "write");
    }
}
