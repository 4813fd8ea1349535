using MannLab.Runs;
using Task = System.Threading.Tasks.Task;

namespace MannLab.Cli.Tests;

/// <summary>
/// The disk fills while `mannlab train` writes a checkpoint: the run fails naming the file and
/// saying the disk is full, the previous checkpoint stays whole and nothing is left half written,
/// and once there is room again the same command resumes to the numbers of a run that never stopped.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>An LSTM whose checkpoint (its parameters and Adam's state, about 1.7 MB) dwarfs the run's other files.</summary>
    public const string Spec = """
        name: disk-full
        dataset:
          source: synthetic
          image_size: 12
          synthetic: {alphabets: 6, characters: 10, drawers: 6}
          augment: {translate: 0, rotate: 0}
        task: {classes: 3, instances: 4}
        model: {kind: lstm, hidden: 128}
        training: {optimizer: adam, lr: 1e-3, episodes: 960, batch_size: 16, seed: 1}
        evaluation: {every: 320, episodes: 32, instances: [1, 2]}
        checkpoint: {every: 320}
        """;

    [Fact]
    public async Task A_disk_that_fills_during_a_checkpoint_fails_the_run_naming_the_file_and_the_previous_checkpoint_resumes_it_exactly()
    {
        var file = _folder.Write("disk-full.yaml", Spec);
        var straight = Mannlab.Run(_folder.Path, "train", file, "--out", _folder.Sub("straight"));
        straight.ExitCode.Should().Be(0, straight.Out + straight.Err);
        var size = new FileInfo(_folder.Sub("straight/checkpoint.bin")).Length;

        using var disk = await Tmpfs.MountAsync(4 * size);
        var output = Path.Combine(disk.Path, "run");
        // Room for a checkpoint and the small files, not for a second checkpoint beside the first.
        disk.Fill(leaving: size + size / 2);

        var failed = Mannlab.Run(_folder.Path, "train", file, "--out", output);

        failed.ExitCode.Should().Be(2, failed.Out + failed.Err);
        failed.Err.Should().Contain($"cannot write {output}/checkpoint.bin: the disk is full; its previous version is kept");
        CheckpointHeader.Read(Path.Combine(output, "checkpoint.bin")).Episode.Should().Be(320);
        Directory.GetFiles(output, "*.tmp").Should().BeEmpty("a file that did not fit leaves nothing behind");
        File.ReadAllText(Path.Combine(output, "run.json")).Should().Contain("\"status\": \"failed\"").And.Contain("the disk is full");

        disk.Empty();
        var resumed = Mannlab.Run(_folder.Path, "train", file, "--out", output);

        resumed.ExitCode.Should().Be(0, resumed.Out + resumed.Err);
        resumed.Out.Should().Contain($"resuming from {output}/checkpoint.bin at episode 320");
        RunRecord.MetricsOf(output).Should().Equal(RunRecord.MetricsOf(_folder.Sub("straight")), "every metric at every step, to the last bit");
        RunRecord.InstancesOf(output).Should().Equal(RunRecord.InstancesOf(_folder.Sub("straight")));
    }
}
