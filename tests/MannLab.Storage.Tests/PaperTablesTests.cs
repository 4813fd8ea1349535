using MannLab.Runs;
using MannLab.Spec;
using Task = System.Threading.Tasks.Task;
using MannLab.Storage;

namespace MannLab.Storage.Tests;

/// <summary>
/// Which of the paper's tables, models and variants a run is (mannlab.paper_table, paper_model,
/// paper_variant), and the comparison with the paper that groups runs by them.
/// </summary>
[Collection(PostgresCollection.Name)]
public class PaperTablesTests(PostgresFixture pg)
{
    private static ExperimentFile Parse(string file, string yaml) => RunStoreTests.Parse(file, yaml);

    private static ExperimentFile Shipped(string file) =>
        Parse(file, File.ReadAllText(Path.Combine(Mannlab.RepositoryRoot, "experiments", "paper", file)));

    /// <summary>"table / classes / model[ / variant]" of a run's canonical spec, "none" where it is none of the paper's.</summary>
    private async Task<string> PaperKey(string specJson)
    {
        var spec = $"'{specJson.Replace("'", "''")}'::jsonb";
        return (await pg.Scalar<string>($$"""
            select concat_ws(' / ', coalesce(mannlab.paper_table({{spec}}), 'none'), {{spec}} #>> '{task,classes}',
                             coalesce(mannlab.paper_model({{spec}}), 'none'), nullif(mannlab.paper_variant({{spec}}), ''))
            """))!;
    }

    [Fact]
    public async Task Each_shipped_paper_spec_is_the_model_of_its_table_and_setting()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var keys = new List<string>();
        foreach (var file in new[] { "table1-feedforward.yaml", "table1-lstm.yaml", "table1-mann.yaml", "table1-mann-extended.yaml",
                     "table2-5way.yaml", "table2-15way.yaml", "table2-rmsprop.yaml", "persistent-memory.yaml", "curriculum.yaml" })
            foreach (var run in Shipped(file).Runs)
                keys.Add($"{file}: {await PaperKey(run.Json)}");

        // Table 2's specs run each row with two seeds, one after the other; the extended MANN is a variant of the paper's.
        const string extended = "mann_lstm_controller / per-head rule, learned key strength, add vector";
        static IEnumerable<string> Table2(string file, int classes, params string[] rows) =>
            rows.SelectMany(row => Enumerable.Repeat($"{file}: table2 / {classes} / {row}", 2));
        keys.Should().Equal([
            "table1-feedforward.yaml: table1 / 5 / feedforward",
            "table1-lstm.yaml: table1 / 5 / lstm",
            "table1-mann.yaml: table1 / 5 / mann",
            "table1-mann.yaml: table1 / 5 / mann / per-head rule", // its sweep's second point
            "table1-mann-extended.yaml: table1 / 5 / mann / per-head rule, learned key strength, add vector",
            .. Table2("table2-5way.yaml", 5, "knn_raw_pixels", extended, "mann_lstm_controller", "knn_deep_features",
                "mann_feedforward_controller", "lstm", "feedforward"),
            .. Table2("table2-15way.yaml", 15, "knn_raw_pixels", extended, "mann_lstm_controller", "knn_deep_features",
                "mann_ntm_access_lstm_controller", "mann_feedforward_controller", "lstm", "feedforward"),
            .. Table2("table2-rmsprop.yaml", 15, "mann_lstm_controller"),
            .. Table2("table2-rmsprop.yaml", 5, "mann_lstm_controller"),
            // Persistent memory is a variant of its own; 10 classes is none of the paper's tables.
            "persistent-memory.yaml: table1 / 5 / mann / per-head rule, learned key strength, add vector",
            "persistent-memory.yaml: table1 / 5 / mann / per-head rule, learned key strength, add vector, persistent memory",
            "persistent-memory.yaml: none / 10 / none / per-head rule, learned key strength, add vector",
            "persistent-memory.yaml: none / 10 / none / per-head rule, learned key strength, add vector, persistent memory",
            // Trained up to 25 classes, none of the paper's tables, and a curriculum's run is a variant of its own.
            "curriculum.yaml: none / 25 / none / per-head rule, learned key strength, add vector, curriculum",
            "curriculum.yaml: none / 25 / none / per-head rule, learned key strength, add vector, curriculum",
            "curriculum.yaml: none / 25 / none / curriculum",
            "curriculum.yaml: none / 25 / none / curriculum",
        ]);
    }

    [Theory]
    [InlineData("model: {kind: mann}\ndataset: {source: synthetic}\n", "none / 5 / none")]
    [InlineData("model: {kind: mann}\ntask: {classes: 10}\n", "none / 10 / none")]
    [InlineData("model: {kind: mann, access: ntm}\n", "table1 / 5 / none")] // Table 1 has no NTM row
    [InlineData("model: {kind: mann, controller: feedforward}\n", "table1 / 5 / none")]
    [InlineData("model: {kind: knn}\n", "table1 / 5 / none")] // nor a kNN row
    [InlineData("model: {kind: knn}\ntask: {classes: 5, labels: string}\n", "table2 / 5 / knn_raw_pixels")]
    [InlineData("model: {kind: knn, features: autoencoder}\ntask: {classes: 15, length: 100, labels: string}\n", "table2 / 15 / knn_deep_features")]
    [InlineData("model: {kind: mann, lrua: {gamma: 0.99}}\ntask: {classes: 15, length: 100, labels: string}\n", "table2 / 15 / mann_lstm_controller")]
    // Trained on 5 to 15 classes, not on 15 throughout: a row of its own.
    [InlineData("model: {kind: mann, lrua: {gamma: 0.99}}\ntask: {classes: 15, length_per_class: 10, labels: string, curriculum: {start: 5}}\n",
        "table2 / 15 / mann_lstm_controller / curriculum")]
    public async Task A_setting_or_model_the_paper_did_not_report_is_none_of_its_rows(string yaml, string key)
    {
        await Migrations.ApplyAsync(pg.DataSource);
        (await PaperKey(Parse("x.yaml", "name: x\n" + yaml).Runs.Head.Json)).Should().Be(key);
    }

    [Fact]
    public async Task The_paper_exact_and_the_extended_MANN_are_compared_with_Table_2_as_rows_of_their_own()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var experiment = Parse("t2.yaml", """
            name: table2-compared
            task: {classes: 15, length: 100, labels: string}
            sweep:
              model:
                - {kind: mann, lrua: {gamma: 0.99}}
                - {kind: mann, lrua: {gamma: 0.99, least_used: per-head}}
              training.seed: [1, 2]
            """);
        await new RunStore(pg.DataSource).RegisterAsync(experiment);
        // Each run's final held-out evaluation: 60 and 70 of 100 second sights right for the paper's
        // MANN, 80 and 90 for the per-head one.
        var correct = new[] { 60, 70, 80, 90 };
        foreach (var (run, right) in experiment.Runs.Zip(correct))
        {
            await using var finish = pg.DataSource.CreateCommand($"""
                update mannlab.runs set status = {RunStatus.Sql(RunStatus.Succeeded)} where id = '{run.Id}';
                insert into mannlab.instance_accuracy (run_id, step, split, classes, instance, correct, total) values ('{run.Id}', 1000, 'test', 15, 2, {right}, 100);
                """);
            await finish.ExecuteNonQueryAsync();
        }

        var rows = await EmbeddedLab.Column<string>(pg.DataSource, """
            select concat_ws(' | ', paper_model, nullif(variant, ''), runs, round(mean_accuracy::numeric, 3), round(paper_accuracy::numeric, 3),
                             provenance, round(difference::numeric, 3), reimplementation, reimplementation_accuracy)
            from mannlab.paper_comparison where name = 'table2-compared' and instance = 2 order by variant
            """);

        rows.Should().Equal(
            "mann_lstm_controller | 2 | 0.650 | 0.626 | as transcribed | 0.024 | snowkylin_ntm_tensorflow | 0.35",
            "mann_lstm_controller | per-head rule | 2 | 0.850 | 0.626 | as transcribed | 0.224 | snowkylin_ntm_tensorflow | 0.35");
        var queries = new RunQueries(pg.DataSource);
        (await queries.PaperResultsAsync([experiment.Runs.Head.Id])).Select(s => s.Name).Should()
            .Equal("mann_lstm_controller (Santoro et al. 2016, Table 2, 15 classes, as transcribed)");

        // The report's read model: the same two rows, each with its two runs.
        var report = await queries.PaperReportAsync();
        var ours = report.Ours.Where(o => o.Experiment == "table2-compared").ToList();
        ours.Select(o => (o.Table, o.Classes, o.PaperModel, o.Variant, o.RunIds.Count)).Should().Equal(
            ("table2", 15, "mann_lstm_controller", "", 2), ("table2", 15, "mann_lstm_controller", "per-head rule", 2));
        ours.SelectMany(o => o.RunIds).Should().BeEquivalentTo(experiment.Runs.Select(r => r.Id));
        ours[0].Accuracy[2].Mean.Should().BeApproximately(0.65, 1e-12);
        ours[0].Accuracy[2].Ci95.Should().BeApproximately(12.706 * 0.05, 1e-9, "t(1) times the standard error of 0.6 and 0.7");
        ours[0].Minutes.Should().BeNull("these runs recorded no training minutes");
        var row = report.Paper.Single(p => p is { Table: "table2", Classes: 15, Model: "mann_lstm_controller" });
        row.Provenance.Should().Be("as transcribed");
        row.Accuracy[2].Should().BeApproximately(0.626, 1e-12);
        row.BestReimplementation[2].Should().Be(("snowkylin_ntm_tensorflow", 0.35));
        report.Paper.Should().HaveCount(4 + 6 + 7, "Table 1's four rows, Table 2's six at 5 classes and seven at 15");
    }

    [Fact]
    public async Task The_report_pairs_the_runs_that_differ_only_in_persistent_memory_with_their_second_sight_curves()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var shipped = Shipped("persistent-memory.yaml");
        var other = Parse("lone.yaml", "name: lone\nmodel: {kind: mann, memory: {persistent: true}}\ntask: {classes: 7}\n");
        var store = new RunStore(pg.DataSource);
        await store.RegisterAsync(shipped);
        await store.RegisterAsync(other);
        var run = shipped.Runs[1]; // 5 classes, persistent
        await using (var evaluated = pg.DataSource.CreateCommand($"""
            insert into mannlab.instance_accuracy (run_id, step, split, classes, instance, correct, total) values
                ('{run.Id}', 5000, 'test', 5, 2, 30, 100), ('{run.Id}', 10000, 'test', 5, 2, 45, 100),
                ('{run.Id}', 10000, 'test', 5, 3, 99, 100), ('{run.Id}', 10000, 'train', 5, 2, 99, 100);
            """))
            await evaluated.ExecuteNonQueryAsync();

        var pairs = (await new RunQueries(pg.DataSource).PaperReportAsync()).PersistentMemory;

        pairs.Select(p => (p.RunId, p.Classes, p.Episode, p.Persistent, p.Status)).Should().BeEquivalentTo(
            shipped.Runs.Select(r => (r.Id, r.Spec.Task.Classes, r.Spec.Task.Classes == 5 ? "10 per class" : "75 steps",
                ((Model.Mann)r.Spec.Model).mann.Memory.Persistent, "queued")),
            "the lone persistent run has no wiped twin");
        pairs.Single(p => p.RunId == run.Id).SecondSight.Should().Equal(new Dictionary<long, double> { [5000] = 0.30, [10000] = 0.45 });
        pairs.Where(p => p.RunId != run.Id).Should().AllSatisfy(p => p.SecondSight.Should().BeEmpty());
        pairs.GroupBy(p => p.Setting).Should().HaveCount(2);
    }

    [Fact]
    public async Task The_report_gives_each_curriculum_run_its_final_accuracy_by_class_count_once_it_succeeded()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var shipped = Shipped("curriculum.yaml");
        var synthetic = Parse("small.yaml", "name: small\ndataset: {source: synthetic}\nmodel: {kind: lstm}\ntask: {classes: 6, curriculum: {start: 3}}\n");
        var store = new RunStore(pg.DataSource);
        await store.RegisterAsync(shipped);
        await store.RegisterAsync(synthetic);
        var run = shipped.Runs[0];
        await using (var evaluated = pg.DataSource.CreateCommand($"""
            update mannlab.runs set status = {RunStatus.Sql(RunStatus.Succeeded)} where id = '{run.Id}';
            insert into mannlab.instance_accuracy (run_id, step, split, classes, instance, correct, total) values
                ('{run.Id}', 50000, 'test', 25, 2, 10, 100),
                ('{run.Id}', 100000, 'test', 25, 2, 70, 100), ('{run.Id}', 100000, 'test', 25, 10, 90, 100),
                ('{run.Id}', 100000, 'test', 100, 2, 40, 100), ('{run.Id}', 100000, 'test', 5, 2, 95, 100),
                ('{run.Id}', 100000, 'train', 25, 2, 99, 100);
            """))
            await evaluated.ExecuteNonQueryAsync();

        var runs = (await new RunQueries(pg.DataSource).PaperReportAsync()).Curriculum;

        runs.Select(s => (s.Variant, s.Schedule, s.TaskClasses)).Should().Equal(
            [("per-head rule, learned key strength, add vector", "15 to 25 classes, +1 every 10,000 episodes", 25),
             ("", "15 to 25 classes, +1 every 10,000 episodes", 25)],
            "the Omniglot runs with a curriculum, one setting per model with its two seeds, in the spec's order, the synthetic one left out");
        runs.SelectMany(s => s.Runs).Select(r => (r.RunId, r.Seed, r.Status)).Should().Equal(
            (run.Id, 0, "succeeded"), (shipped.Runs[1].Id, 1, "queued"), (shipped.Runs[2].Id, 0, "queued"), (shipped.Runs[3].Id, 1, "queued"));
        var byClasses = runs[0].Runs[0].ByClasses;
        byClasses.Keys.Order().Should().Equal(5, 25, 100);
        byClasses[25].Should().Equal(new Dictionary<int, double> { [2] = 0.70, [10] = 0.90 }, "the final evaluation, not the earlier one");
        byClasses[100][2].Should().Be(0.40);
        runs.SelectMany(s => s.Runs).Skip(1).Should().OnlyContain(r => r.ByClasses.Count == 0);
        runs[0].Means.Should().ContainEquivalentOf(new CurriculumMean(25, 2, 1, 0.70, null), "one succeeded run: its own accuracy, no interval");
        runs[1].Means.Should().BeEmpty();

        // A second seed succeeds: the mean and t-interval over both (t975 of 1 degree of freedom is 12.706).
        await using (var second = pg.DataSource.CreateCommand($"""
            update mannlab.runs set status = {RunStatus.Sql(RunStatus.Succeeded)} where id = '{shipped.Runs[1].Id}';
            insert into mannlab.instance_accuracy (run_id, step, split, classes, instance, correct, total) values
                ('{shipped.Runs[1].Id}', 100000, 'test', 25, 2, 50, 100);
            """))
            await second.ExecuteNonQueryAsync();
        var mean = (await new RunQueries(pg.DataSource).PaperReportAsync()).Curriculum[0].Means.Single(m => (m.Classes, m.Instance) == (25, 2));
        mean.Runs.Should().Be(2);
        mean.Mean.Should().BeApproximately(0.60, 1e-12);
        mean.Ci95.Should().BeApproximately(12.706 * 0.1, 1e-9, "the standard error of 0.7 and 0.5 is 0.1");
    }
}
