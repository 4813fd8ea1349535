using System.Diagnostics;
using System.Text.Json;
using MannLab.Runs;

namespace MannLab.Cli.Tests;

/// <summary><c>mannlab train</c> run as a process: how it ends is its exit code, one of <see cref="TrainingExitCode"/>.</summary>
public class TrainCommandTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
        _folder.Dispose();
    }

    /// <summary>A small LSTM on synthetic glyphs: a few seconds of training.</summary>
    private static readonly string Tiny = SmallSpec.Yaml("tiny", "{kind: lstm, hidden: 32}",
        "{optimizer: adam, lr: 1e-3, batch_size: 8, episodes: 64, seed: 5, device: auto}",
        "{every: 32, episodes: 16, instances: [1, 2, 4]}", "{every: 32}");

    private JsonElement RunRecord(string folder) => JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "run.json"))).RootElement;

    [Fact]
    public void A_run_that_trains_to_the_end_exits_completed_and_records_the_device_it_trained_on()
    {
        var spec = _folder.Write("tiny.yaml", Tiny);

        var result = Mannlab.Run(_folder.Path, "train", spec, "--out", _folder.Sub("out"));

        result.ExitCode.Should().Be(TrainingExitCode.Completed, result.Err);
        var record = RunRecord(_folder.Sub("out"));
        record.GetProperty("status").GetString().Should().Be(RunStatus.Succeeded);
        // device: auto, on the device torch found: the CPU on a machine without CUDA.
        record.GetProperty("environment").GetProperty("Device").GetString().Should().Be(TorchSharp.torch.cuda.is_available() ? "cuda" : "cpu");
    }

    [Fact]
    public void A_mann_run_draws_its_memory_from_the_training_model_exactly_as_inspect_draws_it_from_the_checkpoint()
    {
        var spec = _folder.Write("mann.yaml", SmallSpec.Yaml("tiny-mann", "{kind: mann, hidden: 16, memory: {slots: 8, width: 4, read_heads: 1}}",
            "{optimizer: adam, lr: 1e-3, batch_size: 8, episodes: 48, seed: 5}", "{every: 48, episodes: 8, instances: [1, 2]}", "{every: 24}"));

        var result = Mannlab.Run(_folder.Path, "train", spec, "--out", _folder.Sub("mann"));
        result.ExitCode.Should().Be(TrainingExitCode.Completed, result.Err);
        var inspected = Mannlab.Run(_folder.Path, "inspect", Path.Combine(_folder.Sub("mann"), "checkpoint.bin"), "--out", _folder.Sub("inspected.png"));
        inspected.ExitCode.Should().Be(0, inspected.Err);

        // The same trace, title and pixels: the live model at its last checkpoint is the checkpoint's model.
        var drawn = File.ReadAllBytes(Path.Combine(_folder.Sub("mann"), "memory.png"));
        drawn.Should().Equal(File.ReadAllBytes(_folder.Sub("inspected.png")));
        drawn.Length.Should().BeGreaterThan(10_000, "a picture of three panels, not an empty image");
        var lstm = Mannlab.Run(_folder.Path, "train", _folder.Write("tiny.yaml", Tiny), "--out", _folder.Sub("lstm"));
        lstm.ExitCode.Should().Be(TrainingExitCode.Completed, lstm.Err);
        File.Exists(Path.Combine(_folder.Sub("lstm"), "memory.png")).Should().BeFalse("an LSTM has no external memory to draw");
    }

    /// <summary>
    /// Two threads split each batch of the fused recurrence into shards (and make libgomp's idle
    /// threads sleep, which must happen before torch loads: the command checks it). The losses are
    /// those of one thread but for rounding, which Adam carries on from step to step.
    /// </summary>
    [Fact]
    public void A_mann_on_two_threads_trains_as_on_one_but_for_rounding()
    {
        string Spec(int threads) => SmallSpec.Yaml("threads-mann", "{kind: mann, hidden: 16, memory: {slots: 8, width: 4, read_heads: 2}, lrua: {least_used: per-head}}",
            $"{{optimizer: adam, lr: 1e-3, batch_size: 8, episodes: 48, seed: 5, threads: {threads}}}", "{every: 24, episodes: 8, instances: [1, 2]}", "{every: 48}");
        double[] Losses(int threads)
        {
            var result = Mannlab.Run(_folder.Path, "train", _folder.Write($"mann-{threads}.yaml", Spec(threads)), "--out", _folder.Sub($"out-{threads}"));
            result.ExitCode.Should().Be(TrainingExitCode.Completed, result.Err);
            return [.. File.ReadLines(Path.Combine(_folder.Sub($"out-{threads}"), "metrics.csv")).Select(l => l.Split(','))
                .Where(f => f[1] is "train_loss" or "eval_loss").Select(f => double.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture))];
        }

        var (one, two) = (Losses(1), Losses(2));

        one.Should().NotBeEmpty();
        two.Should().HaveSameCount(one);
        two.Zip(one).Should().AllSatisfy(p => p.First.Should().BeApproximately(p.Second, 1e-4 * Math.Abs(p.Second)));
    }

    [Fact]
    public void A_run_whose_loss_diverges_exits_failed()
    {
        var spec = _folder.Write("diverges.yaml", Tiny.Replace("lr: 1e-3", "lr: 1e37").Replace("seed: 5", "seed: 5, grad_clip: null"));

        var result = Mannlab.Run(_folder.Path, "train", spec, "--out", _folder.Sub("out"));

        result.ExitCode.Should().Be(TrainingExitCode.Failed, result.Out);
        result.Err.Should().Contain("failed: the training loss became");
    }

    [Fact]
    public void A_spec_that_does_not_validate_exits_not_started()
    {
        var spec = _folder.Write("bad.yaml", "name: bad\nmodel: {kind: lstm, hidden: 0}\n");

        var result = Mannlab.Run(_folder.Path, "train", spec, "--out", _folder.Sub("out"));

        result.ExitCode.Should().Be(TrainingExitCode.NotStarted);
        result.Err.Should().Contain("bad.yaml:2:");
        Directory.Exists(_folder.Sub("out")).Should().BeFalse("nothing was trained");
    }

    [Fact]
    public async Task Ctrl_c_checkpoints_and_exits_interrupted()
    {
        var (process, stdout, stderr, output) = await StartLongTraining();

        await Signal("INT", process);
        await UntilExited(process);

        process.ExitCode.Should().Be(TrainingExitCode.Interrupted, await stdout + await stderr);
        (await stdout).Should().Contain("Run the same command to resume");
        var record = RunRecord(output);
        record.GetProperty("status").GetString().Should().Be(RunStatus.Interrupted);
        CheckpointHeader.Read(Path.Combine(output, "checkpoint.bin")).Episode.Should().Be(record.GetProperty("episodes").GetInt64()).And.BePositive();
    }

    [Fact]
    public async Task Signals_that_arrive_mid_batch_leave_training_intact()
    {
        // oneDNN's gemm runs with the stack pointer in a heap buffer; a signal handled on the training
        // thread then wrote its frame over the heap (see AsyncSignals). SIGCHLD goes to .NET's same handler
        // as Ctrl-C but does not stop training, so a burst of them hits many batches: before the fix, 200
        // of them corrupted the heap in every one of 5 tries; Ctrl-C alone did about one time in 20.
        var (process, stdout, stderr, output) = await StartLongTraining();

        var pid = process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var burst = Process.Start("sh", ["-c", $"i=0; while [ $i -lt 200 ] && kill -CHLD {pid}; do sleep 0.02; i=$((i+1)); done"]))
            await burst.WaitForExitAsync();
        await Signal("INT", process);
        await UntilExited(process);

        process.ExitCode.Should().Be(TrainingExitCode.Interrupted, await stdout + await stderr);
        RunRecord(output).GetProperty("status").GetString().Should().Be(RunStatus.Interrupted);
    }

    /// <summary>`mannlab train` of a run far too long to finish, once its first checkpoint is on disk: the process, its output, and its folder.</summary>
    private async Task<(Process Process, Task<string> Stdout, Task<string> Stderr, string Output)> StartLongTraining()
    {
        var spec = _folder.Write("long.yaml", Tiny.Replace("episodes: 64", "episodes: 10000000"));
        var output = _folder.Sub("out");
        var start = Mannlab.Start(_folder.Path, null, "train", spec, "--out", output);
        // A shell that starts a command in the background without job control leaves SIGINT ignored,
        // and .NET keeps an ignored SIGINT ignored: give the child the default back, as a terminal has it.
        start.ArgumentList.Insert(0, start.FileName);
        start.ArgumentList.Insert(0, "--default-signal=INT");
        start.FileName = "env";
        var process = Process.Start(start)!;
        _processes.Add(process);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        while (!File.Exists(Path.Combine(output, "checkpoint.bin")) && !process.HasExited) await Task.Delay(50);
        process.HasExited.Should().BeFalse(process.HasExited ? await stderr : "");
        return (process, stdout, stderr, output);
    }

    private static async Task Signal(string signal, Process process)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>A bound, not a timing: a child that never stops must fail the test, not hang the suite.</summary>
    private static async Task UntilExited(Process process)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException("mannlab train did not stop within 5 minutes of SIGINT");
        }
    }
}
