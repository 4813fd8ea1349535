using System.Diagnostics;
using MannLab.Data;
using MannLab.Models;
using MannLab.Runs;
using MannLab.Spec;
using Optimizer = MannLab.Spec.Optimizer;
using Device = TorchSharp.torch.Device;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// Trains one run: batches of episodes, the task's loss (TaskTraining: classification or regression),
/// the spec's optimiser and gradient clipping, held-out evaluation every N episodes and at the end,
/// atomic checkpoints, and resumption from the last checkpoint. Episode e's data depends only on (seed, e), and the
/// training-metric windows close at fixed iterations, so a resumed run reproduces an
/// uninterrupted one. Every iteration's tensors live in a DisposeScope: memory stays flat.
/// </summary>
public sealed class Trainer(Spec.Spec spec, string runId, string checkpointFile, ITrainingSink sink,
    Action<TrainingProgress>? progress = null, Action<string>? log = null)
{
    /// <summary>Training metrics are averaged over windows of this many iterations.</summary>
    public const int LogEvery = 10;

    /// <summary>
    /// Metrics that measure the machine, not the model: they differ between two otherwise identical
    /// runs. Resident memory is recorded so that a leak shows on the run's own curves.
    /// </summary>
    public static readonly IReadOnlySet<string> MachineMetrics = new HashSet<string> { "episodes_per_second", "resident_memory_mb", TrainingMinutes };

    /// <summary>
    /// Recorded with each held-out evaluation: the wall-clock minutes the run has trained when the
    /// evaluation is done, data loading and evaluations included, summed over its attempts (each up
    /// to its last checkpoint, as the checkpoint carries it): what a user waits for that accuracy.
    /// </summary>
    public const string TrainingMinutes = "training_minutes";

    /// <summary>Wall-clock time of this attempt, from the start of <see cref="Run"/>.</summary>
    private readonly Stopwatch _attemptClock = new();

    /// <summary>The time earlier attempts trained, up to the checkpoint this one resumed from.</summary>
    private TimeSpan _trainedBefore;

    private TimeSpan Trained => _trainedBefore + _attemptClock.Elapsed;

    /// <summary>Called after every iteration with the iteration count; tests use it to look at the process.</summary>
    public Action<long>? AfterIteration { get; init; }

    public TrainingResult Run(CancellationToken cancel = default)
    {
        // Before any torch work: a signal handled on this thread mid-gemm corrupted the heap (see AsyncSignals).
        using var signals = AsyncSignals.KeepOffThisThread();
        try
        {
            return Train(cancel);
        }
        catch (Exception e) when (e is TrainingDivergedException or DataException or DiskFullException)
        {
            var failed = new TrainingResult(Outcome.Failed, 0, e.Message, []);
            sink.Finished(failed);
            return failed;
        }
    }

    private TrainingResult Train(CancellationToken cancel)
    {
        _attemptClock.Restart();
        var t = spec.Training;
        var device = TorchRuntime.Configure(t.Threads, t.Device);
        using var task = TaskTraining.For(spec, sink, device, log);

        TorchRuntime.Seed(t.Seed);
        using var model = task.CreateModel();
        model.to(device);
        if (spec.EpisodesToTrain == 0)
        {
            sink.Started(0, TorchEnvironment.Capture(device, t.Threads));
            return Finish(task, model, 0, null);
        }
        // Listed once: each of TorchSharp's parameters() calls leaves some native memory behind.
        var parameters = model.parameters().ToArray();
        using var optimizer = Optimizers.Create(t.Optimizer, parameters);
        var step = new TrainingStep(model, optimizer, parameters, (input, output, targets) => task.Loss(model, input, output, targets),
            t.GradClip is { } clip ? clip.Value : null);

        long episode = 0, iteration = 0;
        if (File.Exists(checkpointFile))
        {
            var header = Checkpoint.Load(checkpointFile, runId, model, optimizer);
            (episode, iteration, _trainedBefore) = (header.Episode, header.Iteration, TimeSpan.FromSeconds(header.TrainedSeconds));
            log?.Invoke($"resuming from {checkpointFile} at episode {episode}");
        }
        sink.Started(episode, TorchEnvironment.Capture(device, t.Threads));

        long total = spec.EpisodesToTrain, batchSize = t.BatchSize;
        var window = new Window(task.WindowAt(episode));
        Evaluated? lastEval = null;
        task.StartAt(episode);
        var windowClock = Stopwatch.StartNew();
        while (episode < total)
        {
            if (cancel.IsCancellationRequested)
            {
                Flush(task, window, episode, windowClock);
                Save(task, episode, iteration, model, optimizer, device);
                var interrupted = new TrainingResult(Outcome.Interrupted, episode, "stopped on request", lastEval?.Rows ?? []);
                sink.Finished(interrupted);
                return interrupted;
            }
            var batchWindow = task.Next();
            // A window holds one kind of batch (a curriculum's class count): a new one closes it early.
            if (batchWindow != window.Key)
            {
                Flush(task, window, episode, windowClock);
                window.Key = batchWindow;
            }
            using (NewDisposeScope())
            {
                var (input, targets) = task.Tensors();
                var done = step.Run(input, targets, LearningRate.at(t, episode));
                if (!done.Stepped)
                    throw new TrainingDivergedException($"the training loss became {done.Loss} at episode {episode} (iteration {iteration + 1}); " +
                                                        "lower training.lr or set training.grad_clip");
                window.Add(done.Loss);
                task.Accumulate(done.Logits, targets);
            }
            episode += batchSize;
            iteration++;
            var evaluate = Crossed(episode, batchSize, spec.Evaluation.Every) || episode >= total;
            var checkpoint = Crossed(episode, batchSize, spec.CheckpointEvery) || episode >= total;
            var trainAccuracy = task.WindowAccuracy();
            var trainLoss = window.MeanLoss;
            var rate = window.Iterations * batchSize / Math.Max(1e-9, windowClock.Elapsed.TotalSeconds);
            if (iteration % LogEvery == 0 || evaluate || checkpoint) Flush(task, window, episode, windowClock);
            if (evaluate) lastEval = Evaluate(task, model, episode);
            if (checkpoint) Save(task, episode, iteration, model, optimizer, device);
            progress?.Invoke(new TrainingProgress(episode, total, rate, trainLoss, trainAccuracy, lastEval?.Accuracy, iteration, lastEval?.Summary));
            AfterIteration?.Invoke(iteration);
        }
        return Finish(task, model, episode, lastEval);
    }

    /// <summary>
    /// Completes a run whose training is done: its final evaluation (<paramref name="last"/>, or done
    /// now when no evaluation came after its last training step: a resumed finished run, or a model
    /// with nothing to learn), and what the task records beside it (TaskTraining.Complete).
    /// </summary>
    private TrainingResult Finish(TaskTraining task, EpisodeModel model, long episode, Evaluated? last)
    {
        last ??= Evaluate(task, model, episode);
        var completed = new TrainingResult(Outcome.Completed, episode, null, [.. last.Rows, .. task.Complete(model, episode, last.Rows)]);
        sink.Finished(completed);
        return completed;
    }

    /// <summary>The held-out evaluation, recorded with the minutes trained so far.</summary>
    private Evaluated Evaluate(TaskTraining task, EpisodeModel model, long episode)
    {
        var evaluated = task.Evaluate(model, episode);
        sink.Record([.. evaluated.Metrics, new Metric(episode, TrainingMinutes, Trained.TotalMinutes)], evaluated.Rows);
        return evaluated;
    }

    /// <summary>True when the last batch carried the episode count past a multiple of <paramref name="every"/>.</summary>
    private static bool Crossed(long episode, long batch, long every) => episode / every > (episode - batch) / every;

    /// <summary>Saves a checkpoint and, for a MANN, draws its memory on held-out episode 0.</summary>
    private void Save(TaskTraining task, long episode, long iteration, EpisodeModel model, optim.Optimizer optimizer, Device device)
    {
        Checkpoint.Save(checkpointFile, new CheckpointHeader(runId, episode, iteration, Canonical.toJson(spec), Trained.TotalSeconds), model, optimizer);
        sink.Checkpointed(episode, checkpointFile);
        if (Picture("regression bands", episode, () => task.Bands(model, episode)) is { Count: > 0 } bands) sink.BandsDrawn(bands);
        if (model is not Models.MannModel mann) return;
        var png = Picture("memory picture", episode, () =>
        {
            using var scope = NewDisposeScope();
            var (input, firstSights) = task.HeldOutEpisode();
            return MemoryPicture.Draw(mann, input, firstSights, MemoryPicture.Title(spec, runId, episode, 0));
        });
        if (png is not null) sink.MemoryDrawn(episode, png);
    }

    /// <summary>A picture is a view of the run, not part of it: losing one must not lose the run.</summary>
    private T? Picture<T>(string what, long episode, Func<T> draw) where T : class
    {
        try
        {
            return draw();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log?.Invoke($"warning: no {what} at episode {episode}: {e.Message}");
            return null;
        }
    }

    private void Flush(TaskTraining task, Window window, long episode, Stopwatch clock)
    {
        if (window.Iterations == 0) return;
        var (own, rows) = task.CloseWindow(episode, window.Key);
        List<Metric> metrics =
        [
            new(episode, "train_loss", window.MeanLoss),
            .. own,
            new(episode, "episodes_per_second", window.Iterations * spec.Training.BatchSize / Math.Max(1e-9, clock.Elapsed.TotalSeconds)),
            new(episode, "resident_memory_mb", Benchmark.Rss() / 1e6),
        ];
        sink.Record(metrics, rows);
        window.Reset();
        clock.Restart();
    }

    /// <summary>The training loss accumulated between flushes, over batches of one kind (<see cref="Key"/>: TaskTraining.WindowAt).</summary>
    private sealed class Window(int key)
    {
        private double _loss;
        public int Key { get; set; } = key;
        public int Iterations { get; private set; }
        public double MeanLoss => Iterations == 0 ? double.NaN : _loss / Iterations;

        public void Add(double loss)
        {
            _loss += loss;
            Iterations++;
        }

        public void Reset()
        {
            _loss = 0;
            Iterations = 0;
        }
    }
}

/// <summary>Evaluation on held-out episodes, shared by training and the benchmarks.</summary>
public static class Evaluation
{
    public static (double Loss, InstanceTally Tally) Run(EpisodeModel model, EpisodeSampler sampler, LabelCodec codec, Device device,
        int episodes, int batchSize, int maxInstance)
    {
        var tally = new InstanceTally(maxInstance);
        double loss = 0;
        model.eval();
        using (no_grad())
        using (model.HeldOutPass())
            for (var first = 0; first < episodes; first += batchSize)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(batchSize, episodes - first);
                var batch = sampler.Batch(first, count);
                var tensors = EpisodeTensors.From(batch, device);
                var logits = model.forward(tensors.Input);
                loss += model.Loss(tensors.Input, logits, tensors.Targets, codec).item<float>() * count;
                tally.Add(Scoring.Correct(logits, tensors.Targets, codec), batch.Instances);
            }
        model.train();
        return (loss / episodes, tally);
    }
}
