using MannLab.Spec;
using Task = System.Threading.Tasks.Task;
using MannLab.Storage;
using MannLab.Training;

namespace MannLab.Storage.Tests;

[Collection(PostgresCollection.Name)]
public class RunStoreTests(PostgresFixture pg)
{
    private static ExperimentFile Parse(string file, string yaml)
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
        var runs = await store.ListAsync("grid");
        runs.Select(r => r.SweepIndex).Should().Equal(0, 1, 2, 3, 4, 5);
        runs.Should().AllSatisfy(r => (r.Status, r.Queue, r.EpisodesTotal).Should().Be(("queued", "cpu", 64L)));
        runs[3].Point.Should().Be("""{"training.seed": 2, "model.lrua.gamma": 0.99}""");

        // The file changes one value: only the runs whose resolved spec changed are new.
        var changed = Parse("grid.yaml", Small.Replace("NAME", "grid") + "\nsweep:\n  training.seed: [1, 2, 4]\n  model.lrua.gamma: [0.9, 0.99]\n");
        (await store.RegisterAsync(changed)).Should().HaveCount(2);
        (await store.ListAsync("grid")).Should().HaveCount(8);
    }

    /// <summary>The small spec under <paramref name="name"/>, registered in a migrated database: its store and its one run.</summary>
    private async Task<(RunStore Store, Run Run)> Registered(string name)
    {
        await Migrations.ApplyAsync(pg.DataSource);
        var store = new RunStore(pg.DataSource);
        var experiment = Parse(name + ".yaml", Small.Replace("NAME", name));
        await store.RegisterAsync(experiment);
        return (store, experiment.Runs.Head);
    }

    [Fact]
    public async Task A_run_trained_into_the_database_can_be_read_through_the_views()
    {
        var (store, run) = await Registered("db-run");
        var sink = new DatabaseSink(pg.DataSource, run.Id);
        using var folder = new TempFolder();
        var checkpoint = folder.Sub(run.Id + ".bin");

        var leases = new RunLeases(pg.DataSource);
        await leases.TryAcquireAsync(run.Id, "worker", TimeSpan.FromMinutes(1), null);

        var result = new Trainer(run.Spec, run.Id, checkpoint, sink).Run();

        result.Outcome.Should().Be(Outcome.Completed);
        (await store.ListAsync("db-run")).Single().Status.Should().Be(RunStatus.Running, "the run's status is its worker's to record, not the trainer's");
        await leases.ReleaseAsync(run.Id, "worker", 1, "succeeded", RunStatus.Succeeded, null);
        (await store.ListAsync("db-run")).Single().Should().Match<StoredRun>(r => r.Status == "succeeded" && r.EpisodesDone == 64);
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
    public async Task Writes_are_idempotent_and_a_restart_voids_what_came_after_its_checkpoint()
    {
        var id = (await Registered("idempotent")).Run.Id;
        var sink = new DatabaseSink(pg.DataSource, id);
        Metric[] batch = [new(32, "train_loss", 1.5), new(32, "eval_acc_2", 0.25), new(64, "train_loss", 1.25)];
        InstanceAccuracy[] rows = [new(32, "test", 1, 3, 10), new(64, "test", 1, 4, 10)];

        sink.Record(batch, rows);
        sink.Record(batch, rows); // a retried write

        (await pg.Scalar<long>($"select count(*) from mannlab.metrics where run_id = '{id}'")).Should().Be(3);
        (await pg.Scalar<long>($"select count(*) from mannlab.instance_accuracy where run_id = '{id}'")).Should().Be(2);

        sink.Started(32, RunEnvironment.Capture(TorchSharp.torch.CPU, 1)); // resuming from a checkpoint at episode 32
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

        new Trainer(run.Spec, run.Id, folder.Sub("checkpoint.bin"), new DatabaseSink(pg.DataSource, run.Id)).Run().Outcome.Should().Be(Outcome.Completed);

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
        new Trainer(run.Spec, run.Id, written, new DatabaseSink(pg.DataSource, run.Id)).Run().Outcome.Should().Be(Outcome.Completed);
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
}
