using System.Text.Json.Nodes;
using MannLab.Runs;
using MannLab.Spec;
using Task = System.Threading.Tasks.Task;
using MannLab.Storage;
using MannLab.Training;
using Npgsql;

namespace MannLab.Storage.Tests;

[Collection(PostgresCollection.Name)]
public class RunStoreTests(PostgresFixture pg)
{
    /// <summary>A spec text as a valid experiment file (the test fails on its errors).</summary>
    internal static ExperimentFile Parse(string file, string yaml)
    {
        var result = Experiments.parse(file, yaml);
        result.IsOk.Should().BeTrue(result.IsError ? string.Join("\n", result.ErrorValue.Select(e => e.ToString())) : "");
        return result.ResultValue;
    }

    private const string Small = """
        name: NAME
        dataset:
          source: synthetic
          image_size: 12
          synthetic: {alphabets: 6, characters: 8, drawers: 12}
        task: {classes: 3, instances: 4}
        model: {kind: mann, hidden: 16, memory: {slots: 8, width: 8, read_heads: 2}}
        training: {optimizer: adam, lr: 1e-3, batch_size: 8, episodes: 64}
        evaluation: {every: 32, episodes: 16, instances: [1, 2, 4]}
        checkpoint: {every: 32}
        """;

    [Fact]
    public async Task A_sweep_is_registered_whole_and_only_once()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var store = new RunStore(pg.DataSource);
        var sweep = Parse("grid.yaml", Small.Replace("NAME", "grid") + "\nsweep:\n  training.seed: [1, 2, 3]\n  model.lrua.gamma: [0.9, 0.99]\n");

        var added = await store.RegisterAsync(sweep);
        var again = await store.RegisterAsync(sweep);

        added.Should().Equal(sweep.Runs.Select(r => r.Id));
        again.Should().BeEmpty();
        var runs = await Queries.ListAsync("grid");
        runs.Select(r => r.SweepIndex).Should().Equal(0, 1, 2, 3, 4, 5);
        runs.Should().AllSatisfy(r => (r.Status, r.Queue, r.EpisodesTotal).Should().Be(("queued", "cpu", 64L)));
        runs[3].Point.Should().Be("""{"training.seed": 2, "model.lrua.gamma": 0.99}""");

        // The file changes one value: only the runs whose resolved spec changed are new.
        var changed = Parse("grid.yaml", Small.Replace("NAME", "grid") + "\nsweep:\n  training.seed: [1, 2, 4]\n  model.lrua.gamma: [0.9, 0.99]\n");
        (await store.RegisterAsync(changed)).Should().HaveCount(2);
        (await Queries.ListAsync("grid")).Should().HaveCount(8);
    }

    private RunQueries Queries => new(pg.DataSource);

    /// <summary>The small spec under <paramref name="name"/>, registered in a migrated database: its store and its one run.</summary>
    private async Task<(RunStore Store, Run Run)> Registered(string name)
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var store = new RunStore(pg.DataSource);
        var experiment = Parse(name + ".yaml", Small.Replace("NAME", name));
        await store.RegisterAsync(experiment);
        return (store, experiment.Runs.Head);
    }

    /// <summary>A sink for the run, whose lease <see cref="Worker"/> takes: its writes commit only under that lease.</summary>
    private async Task<DatabaseSink> Leased(string runId)
    {
        (await new RunLeases(pg.DataSource).TryAcquireAsync(runId, Worker, TimeSpan.FromMinutes(1), null)).Should().BeOfType<LeaseResult.Acquired>();
        return new DatabaseSink(pg.DataSource, runId, Worker);
    }

    private const string Worker = "worker";

    [Fact]
    public async Task A_run_trained_into_the_database_can_be_read_through_the_views()
    {
        var run = (await Registered("db-run")).Run;
        var sink = await Leased(run.Id);
        using var folder = new TempFolder();
        var checkpoint = folder.Sub(run.Id + ".bin");
        var leases = new RunLeases(pg.DataSource);

        var result = new Trainer(run.Spec, run.Id, checkpoint, sink).Run();

        result.Outcome.Should().Be(Outcome.Completed);
        (await Queries.ListAsync("db-run")).Single().Status.Should().Be(RunStatus.Running, "the run's status is its worker's to record, not the trainer's");
        await leases.ReleaseAsync(run.Id, "worker", 1, AttemptOutcome.Succeeded, RunStatus.Succeeded, null);
        (await Queries.ListAsync("db-run")).Single().Should().Match<StoredRun>(r => r.Status == "succeeded" && r.EpisodesDone == 64);
        var finalSecond = await pg.Scalar<double>(
            $"select accuracy from mannlab.final_instance_accuracy where run_id = '{run.Id}' and split = 'test' and instance = 2");
        finalSecond.Should().BeApproximately(result.FinalEvaluation.Single(r => r.Instance == 2).Accuracy, 1e-12);
        (await pg.Scalar<long>($"select count(*) from mannlab.learning_curves where run_id = '{run.Id}'")).Should().Be(2 * 4);
        (await pg.Scalar<string>($"select latest->>'eval_acc_2' from mannlab.run_summary where run_id = '{run.Id}'")).Should().NotBeNull();
        (await pg.Scalar<long>($"select episode from mannlab.checkpoints where run_id = '{run.Id}'")).Should().Be(64);
        // The checkpoint's bytes are in the database, so another machine can resume the run.
        (await pg.Scalar<byte[]>($"select bytes from mannlab.checkpoints where run_id = '{run.Id}'")).Should().Equal(File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public async Task The_read_model_gives_back_a_trained_runs_curves_final_accuracy_spec_and_checkpoint()
    {
        var run = (await Registered("read-back")).Run;
        using var folder = new TempFolder();
        var checkpoint = folder.Sub("checkpoint.bin");
        var result = new Trainer(run.Spec, run.Id, checkpoint, await Leased(run.Id)).Run();
        var queries = Queries;

        var curves = await queries.InstanceCurvesAsync(run.Id);
        var final = await queries.FinalInstancesAsync(run.Id, "final");

        curves.Select(c => c.Name).Should().Equal("1st", "2nd", "3rd", "4th");
        curves.Should().AllSatisfy(c => c.X.Should().Equal(32, 64), "evaluated every 32 episodes");
        final!.X.Should().Equal(1, 2, 3, 4);
        final.Y.Should().Equal(result.FinalEvaluation.Select(r => r.Accuracy));
        curves.Select(c => c.Y[^1]).Should().Equal(final.Y, "each curve ends at the final evaluation");
        (await queries.MetricCurvesAsync(run.Id, "train_loss", "eval_loss")).Select(c => c.Name).Should().Equal("eval_loss", "train_loss");
        JsonNode.DeepEquals(JsonNode.Parse(await queries.SpecJsonAsync(run.Id)), JsonNode.Parse(run.Json)).Should().BeTrue();
        (await queries.CheckpointBytesAsync(run.Id)).Should().Equal(File.ReadAllBytes(checkpoint));
        (await queries.DetailAsync(run.Id))!.Value.Attempts.Rows.Should().ContainSingle();
        (await queries.PaperResultsAsync([run.Id])).Should().BeEmpty("a 3-way synthetic task is none of the paper's settings");
        (await queries.DistinctAsync("experiment")).Should().Contain("read-back");
        await FluentActions.Awaiting(() => queries.SpecJsonAsync("000000000000")).Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task Writes_are_idempotent_and_a_restart_voids_what_came_after_its_checkpoint()
    {
        var id = (await Registered("idempotent")).Run.Id;
        var sink = await Leased(id);
        Metric[] batch = [new(32, "train_loss", 1.5), new(32, "eval_acc_2", 0.25), new(64, "train_loss", 1.25)];
        InstanceAccuracy[] rows = [new(32, "test", 5, 1, 3, 10), new(64, "test", 5, 1, 4, 10)];

        sink.Record(batch, rows);
        sink.Record(batch, rows); // a retried write

        (await pg.Scalar<long>($"select count(*) from mannlab.metrics where run_id = '{id}'")).Should().Be(3);
        (await pg.Scalar<long>($"select count(*) from mannlab.instance_accuracy where run_id = '{id}'")).Should().Be(2);

        sink.Started(32, TorchEnvironment.Capture(TorchSharp.torch.CPU, 1)); // resuming from a checkpoint at episode 32
        (await pg.Scalar<long>($"select count(*) from mannlab.metrics where run_id = '{id}'")).Should().Be(2);
        (await pg.Scalar<long>($"select max(step) from mannlab.instance_accuracy where run_id = '{id}'")).Should().Be(32);
    }

    [Fact]
    public async Task The_run_records_the_device_training_used_not_the_specs_auto()
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var experiment = Parse("auto.yaml", Small.Replace("NAME", "auto").Replace("episodes: 64}", "episodes: 16, device: auto, threads: 2}"));
        await new RunStore(pg.DataSource).RegisterAsync(experiment);
        var run = experiment.Runs.Head;
        using var folder = new TempFolder();

        new Trainer(run.Spec, run.Id, folder.Sub("checkpoint.bin"), await Leased(run.Id)).Run().Outcome.Should().Be(Outcome.Completed);

        // gpu is null for a run on the CPU, which is where auto trains on a machine without CUDA.
        (await pg.Scalar<string>($"select gpu from mannlab.runs where id = '{run.Id}'")).Should().Be(TorchSharp.torch.cuda.is_available() ? "cuda" : null);
        (await pg.Scalar<int>($"select threads from mannlab.runs where id = '{run.Id}'")).Should().Be(2);
        (await pg.Scalar<string>($"select host from mannlab.runs where id = '{run.Id}'")).Should().Be(Environment.MachineName);
    }

    [Fact]
    public async Task A_checkpoint_is_restored_from_the_database_on_a_machine_without_it_and_a_torn_local_copy_is_replaced()
    {
        var (store, run) = await Registered("restored");
        using var trainer = new TempFolder();
        var written = trainer.Sub("checkpoint.bin");
        new Trainer(run.Spec, run.Id, written, await Leased(run.Id)).Run().Outcome.Should().Be(Outcome.Completed);
        using var elsewhere = new TempFolder(); // another machine: no local checkpoint
        var restored = elsewhere.Sub("work/checkpoint.bin");

        (await store.RestoreCheckpointAsync(run.Id, restored)).Should().Be(64);
        File.ReadAllBytes(restored).Should().Equal(File.ReadAllBytes(written));

        File.WriteAllBytes(restored, [1, 2, 3]); // torn by a crash mid-write
        (await store.RestoreCheckpointAsync(run.Id, restored)).Should().Be(64);
        File.ReadAllBytes(restored).Should().Equal(File.ReadAllBytes(written));

        (await store.RestoreCheckpointAsync("000000000000", restored)).Should().BeNull("a checkpoint of another run is no start for this one");
        File.Exists(restored).Should().BeFalse();
    }

    [Fact]
    public async Task What_is_recorded_while_the_database_is_unreachable_is_held_and_written_in_order_once_it_is_back()
    {
        var id = (await Registered("outage")).Run.Id;
        (await new RunLeases(pg.DataSource).TryAcquireAsync(id, Worker, TimeSpan.FromMinutes(1), null)).Should().BeOfType<LeaseResult.Acquired>();
        using var proxy = new LoopbackProxy(pg.Server.Port);
        await using var relayed = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(pg.Server.ConnectionString) { Port = proxy.Port }.ConnectionString);
        var said = new List<string>();
        var sink = new DatabaseSink(relayed, id, Worker, said.Add);
        using var folder = new TempFolder();
        var checkpoint = folder.Sub("checkpoint.bin");

        sink.Started(0, TorchEnvironment.Capture(TorchSharp.torch.CPU, 1));
        sink.Record([new(10, "train_loss", 2.0)], [new(10, "train", 5, 1, 1, 4)]);
        proxy.Cut();
        sink.Record([new(20, "train_loss", 1.5)], []);
        File.WriteAllBytes(checkpoint, [20]);
        sink.Checkpointed(20, checkpoint);
        sink.Record([new(30, "train_loss", 1.25)], [new(30, "train", 5, 1, 2, 4)]);
        File.WriteAllBytes(checkpoint, [30]);
        sink.Checkpointed(30, checkpoint);

        sink.HeldWrites.Should().Be(3, "two batches and the newest checkpoint; the older one is worth nothing now");
        sink.Drain(new CancellationToken(canceled: true)).Should().BeFalse("the database is still away");
        (await pg.Scalar<long>($"select count(*) from mannlab.metrics where run_id = '{id}'")).Should().Be(1);
        (await pg.Scalar<long>($"select count(*) from mannlab.checkpoints where run_id = '{id}'")).Should().Be(0);

        proxy.Restore();
        sink.Record([new(40, "train_loss", 1.0)], []);

        sink.HeldWrites.Should().Be(0);
        (await Column<long>($"select step from mannlab.metrics where run_id = '{id}' order by step")).Should().Equal(10, 20, 30, 40);
        (await Column<long>($"select step from mannlab.instance_accuracy where run_id = '{id}' order by step")).Should().Equal(10, 30);
        (await pg.Scalar<byte[]>($"select bytes from mannlab.checkpoints where run_id = '{id}' and episode = 30")).Should().Equal([30]);
        (await pg.Scalar<long>($"select episodes_done from mannlab.runs where id = '{id}'")).Should().Be(40);
        said.Should().HaveCount(2, string.Join("\n", said));
        said[0].Should().StartWith("the database is unreachable").And.Contain("training goes on");
        said[1].Should().StartWith("the database is back after");
    }

    [Fact]
    public async Task A_process_whose_lease_another_worker_took_writes_nothing_more()
    {
        var id = (await Registered("taken-over")).Run.Id;
        var leases = new RunLeases(pg.DataSource);
        (await leases.TryAcquireAsync(id, Worker, TimeSpan.FromMilliseconds(1), null)).Should().BeOfType<LeaseResult.Acquired>();
        var stale = new DatabaseSink(pg.DataSource, id, Worker);
        stale.Record([new(10, "train_loss", 2.0)], []);
        await Task.Delay(50); // the lease runs out: its worker stalled, or the database was away too long
        (await leases.TryAcquireAsync(id, "another worker", TimeSpan.FromMinutes(1), null)).Should().BeOfType<LeaseResult.Acquired>();

        var write = () => stale.Record([new(20, "train_loss", 1.5)], [new(20, "train", 5, 1, 1, 4)]);

        write.Should().Throw<LeaseLostException>().WithMessage($"run {id} is leased to another worker now, not {Worker}: the records of episode 20*");
        (await Column<long>($"select step from mannlab.metrics where run_id = '{id}'")).Should().Equal(10);
        (await pg.Scalar<long>($"select count(*) from mannlab.instance_accuracy where run_id = '{id}'")).Should().Be(0);
    }

    [Fact]
    public async Task A_local_checkpoint_further_along_than_the_databases_gives_way_to_it()
    {
        var (store, run) = await Registered("gives-way");
        var sink = await Leased(run.Id);
        using var folder = new TempFolder();
        var file = folder.Sub("checkpoint.bin");
        File.WriteAllBytes(file, [32]);
        sink.Checkpointed(32, file);
        // Saved while the database was away: the records between 32 and 64 may never have reached it.
        File.WriteAllBytes(file, [64]);

        (await store.RestoreCheckpointAsync(run.Id, file)).Should().Be(32);
        File.ReadAllBytes(file).Should().Equal([32]);
    }

    private async Task<List<T>> Column<T>(string sql)
    {
        await using var command = pg.DataSource.CreateCommand(sql);
        await using var rows = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await rows.ReadAsync()) values.Add(rows.GetFieldValue<T>(0));
        return values;
    }
}
