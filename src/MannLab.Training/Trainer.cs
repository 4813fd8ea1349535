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
/// Trains one run: batches of episodes (the model's loss, EpisodeModel.Loss), the spec's optimiser and gradient
/// clipping, evaluation on held-out classes every N episodes and at the end, atomic checkpoints,
/// and resumption from the last checkpoint. Episode e's data depends only on (seed, e), and the
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
        var data = Datasets.Prepare(spec, log);
        var (trainSampler, testSampler, byClassesSamplers) = data.Samplers(spec);
        var codec = trainSampler.Codec;
        var report = spec.Evaluation.Instances.ToArray();
        var maxInstance = report.Max();

        TorchRuntime.Seed(t.Seed);
        using var model = ModelFactory.Create(spec.Model, trainSampler.ImagePixels, codec);
        model.to(device);
        if (spec.EpisodesToTrain == 0)
        {
            sink.Started(0, TorchEnvironment.Capture(device, t.Threads));
            return Finish(model, testSampler, byClassesSamplers, codec, device, 0, maxInstance, report, []);
        }
        // Listed once: each of TorchSharp's parameters() calls leaves some native memory behind.
        var parameters = model.parameters().ToArray();
        using var optimizer = Optimizers.Create(t.Optimizer, parameters);
        var step = new TrainingStep(model, optimizer, parameters, codec, t.GradClip is { } clip ? clip.Value : null);

        long episode = 0, iteration = 0;
        if (File.Exists(checkpointFile))
        {
            var header = Checkpoint.Load(checkpointFile, runId, model, optimizer);
            (episode, iteration, _trainedBefore) = (header.Episode, header.Iteration, TimeSpan.FromSeconds(header.TrainedSeconds));
            log?.Invoke($"resuming from {checkpointFile} at episode {episode}");
        }
        sink.Started(episode, TorchEnvironment.Capture(device, t.Threads));

        long total = spec.EpisodesToTrain, batchSize = t.BatchSize;
        var window = new Window(maxInstance, trainSampler.ClassesAt(episode));
        var lastEval = (IReadOnlyList<InstanceAccuracy>)[];
        IReadOnlyDictionary<int, double>? lastEvalAccuracy = null;
        using var stream = new EpisodeStream(trainSampler, t.BatchSize, episode);
        var windowClock = Stopwatch.StartNew();
        while (episode < total)
        {
            if (cancel.IsCancellationRequested)
            {
                Flush(window, episode, report, windowClock);
                Save(episode, iteration, model, optimizer, testSampler, device);
                var interrupted = new TrainingResult(Outcome.Interrupted, episode, "stopped on request", lastEval);
                sink.Finished(interrupted);
                return interrupted;
            }
            var batch = stream.Next();
            // A window holds one class count: the curriculum's step closes it early.
            if (batch.Classes != window.Classes)
            {
                Flush(window, episode, report, windowClock);
                window.Classes = batch.Classes;
            }
            using (NewDisposeScope())
            {
                var tensors = EpisodeTensors.From(batch, device);
                var done = step.Run(tensors.Input, tensors.Targets, LearningRate.at(t, episode));
                if (!done.Stepped)
                    throw new TrainingDivergedException($"the training loss became {done.Loss} at episode {episode} (iteration {iteration + 1}); " +
                                                        "lower training.lr or set training.grad_clip");
                window.Add(done.Loss, Scoring.Correct(done.Logits, tensors.Targets, codec), batch.Instances);
            }
            episode += batchSize;
            iteration++;
            var evaluate = Crossed(episode, batchSize, spec.Evaluation.Every) || episode >= total;
            var checkpoint = Crossed(episode, batchSize, spec.CheckpointEvery) || episode >= total;
            var trainAccuracy = report.ToDictionary(k => k, window.Tally.Accuracy);
            var trainLoss = window.MeanLoss;
            var rate = window.Iterations * batchSize / Math.Max(1e-9, windowClock.Elapsed.TotalSeconds);
            if (iteration % LogEvery == 0 || evaluate || checkpoint) Flush(window, episode, report, windowClock);
            if (evaluate)
            {
                lastEval = Evaluate(model, testSampler, codec, device, episode, maxInstance, report);
                lastEvalAccuracy = lastEval.ToDictionary(r => r.Instance, r => r.Accuracy);
            }
            if (checkpoint) Save(episode, iteration, model, optimizer, testSampler, device);
            progress?.Invoke(new TrainingProgress(episode, total, rate, trainLoss, trainAccuracy, lastEvalAccuracy, iteration));
            AfterIteration?.Invoke(iteration);
        }
        return Finish(model, testSampler, byClassesSamplers, codec, device, episode, maxInstance, report, lastEval);
    }

    /// <summary>
    /// Completes a run whose training is done: its final evaluation (done now when no evaluation
    /// came after its last training step: a resumed finished run, or a model with nothing to learn),
    /// and the raw-pixel kNN on the same episodes.
    /// </summary>
    private TrainingResult Finish(EpisodeModel model, EpisodeSampler testSampler, IReadOnlyList<EpisodeSampler> byClassesSamplers, LabelCodec codec, Device device, long episode, int maxInstance,
        int[] report, IReadOnlyList<InstanceAccuracy> lastEval)
    {
        if (lastEval.Count == 0) lastEval = Evaluate(model, testSampler, codec, device, episode, maxInstance, report);
        RecordNearestNeighbour(testSampler, codec, device, episode, maxInstance, report, lastEval);
        var byClasses = byClassesSamplers.SelectMany(sampler => Evaluate(model, sampler, codec, device, episode, maxInstance, report: null));
        var completed = new TrainingResult(Outcome.Completed, episode, null, [.. lastEval, .. byClasses]);
        sink.Finished(completed);
        return completed;
    }

    /// <summary>True when the last batch carried the episode count past a multiple of <paramref name="every"/>.</summary>
    private static bool Crossed(long episode, long batch, long every) => episode / every > (episode - batch) / every;

    /// <summary>Saves a checkpoint and, for a MANN, draws its memory on held-out episode 0.</summary>
    private void Save(long episode, long iteration, EpisodeModel model, optim.Optimizer optimizer, EpisodeSampler heldOut, Device device)
    {
        Checkpoint.Save(checkpointFile, new CheckpointHeader(runId, episode, iteration, Canonical.toJson(spec), Trained.TotalSeconds), model, optimizer);
        sink.Checkpointed(episode, checkpointFile);
        if (model is not Models.MannModel mann) return;
        byte[] png;
        try
        {
            png = MemoryPicture.Draw(mann, heldOut, 0, device, MemoryPicture.Title(spec, runId, episode, 0));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A picture is a view of the run, not part of it: losing one must not lose the run.
            log?.Invoke($"warning: no memory picture at episode {episode}: {e.Message}");
            return;
        }
        sink.MemoryDrawn(episode, png);
    }

    private void Flush(Window window, long episode, int[] report, Stopwatch clock)
    {
        if (window.Iterations == 0) return;
        var metrics = new List<Metric>
        {
            new(episode, "train_loss", window.MeanLoss),
            new(episode, "train_accuracy", window.Tally.Overall),
            new(episode, "episodes_per_second", window.Iterations * spec.Training.BatchSize / Math.Max(1e-9, clock.Elapsed.TotalSeconds)),
            new(episode, "resident_memory_mb", Benchmark.Rss() / 1e6),
        };
        metrics.AddRange(report.Select(k => new Metric(episode, $"train_acc_{k}", window.Tally.Accuracy(k))));
        if (spec.Task.Curriculum is not null) metrics.Add(new Metric(episode, Metric.CurriculumClasses, window.Classes));
        sink.Record(metrics, window.Tally.Rows(episode, "train", window.Classes, Enumerable.Range(1, report.Max())));
        window.Reset();
        clock.Restart();
    }

    /// <summary>
    /// Per-instance accuracy and loss on the fixed, seeded evaluation episodes (held-out classes,
    /// no jitter), without gradients, recorded as split "test" at the sampler's class count. With
    /// <paramref name="report"/> null (an evaluation at another class count, evaluation.classes) no
    /// metrics: the count is a dimension of the rows, and the views and pages read it from there.
    /// </summary>
    private IReadOnlyList<InstanceAccuracy> Evaluate(EpisodeModel model, EpisodeSampler sampler, LabelCodec codec, Device device,
        long episode, int maxInstance, int[]? report)
    {
        var (loss, tally) = Evaluation.Run(model, sampler, codec, device, spec.Evaluation.Episodes, spec.Training.BatchSize, maxInstance);
        var metrics = new List<Metric>();
        if (report is not null)
        {
            metrics.AddRange([new(episode, "eval_loss", loss), new(episode, "eval_accuracy", tally.Overall)]);
            metrics.AddRange(report.Select(k => new Metric(episode, $"eval_acc_{k}", tally.Accuracy(k))));
            metrics.Add(new Metric(episode, TrainingMinutes, Trained.TotalMinutes));
        }
        var rows = tally.Rows(episode, "test", sampler.ClassesAt(0), Enumerable.Range(1, maxInstance));
        sink.Record(metrics, rows);
        return rows;
    }

    /// <summary>
    /// The paper's Table 2 baseline on the very same evaluation episodes: nearest neighbour on raw
    /// pixels (no training), recorded as split "knn" next to the model's final evaluation. A run
    /// of that very baseline has just been scored on these episodes: its rows are the baseline's.
    /// </summary>
    private void RecordNearestNeighbour(EpisodeSampler sampler, LabelCodec codec, Device device, long episode, int maxInstance, int[] report,
        IReadOnlyList<InstanceAccuracy> modelRows)
    {
        IReadOnlyList<InstanceAccuracy> rows;
        if (spec.Model is Model.Knn { features.IsRawPixels: true }) rows = [.. modelRows.Select(r => r with { Split = "knn" })];
        else
        {
            using var rawPixels = new NearestNeighbourModel(KnnFeatures.RawPixels, sampler.ImagePixels);
            rows = Evaluation.Run(rawPixels, sampler, codec, device, spec.Evaluation.Episodes, spec.Training.BatchSize, maxInstance).Tally
                .Rows(episode, "knn", spec.Task.Classes, Enumerable.Range(1, maxInstance));
        }
        sink.Record([.. report.Select(k => rows.Single(r => r.Instance == k)).Select(r => new Metric(episode, $"knn_acc_{r.Instance}", r.Accuracy))], rows);
    }

    /// <summary>Loss and per-instance tallies accumulated between flushes, over episodes of <see cref="Classes"/> classes.</summary>
    private sealed class Window(int maxInstance, int classes)
    {
        private double _loss;
        public int Classes { get; set; } = classes;
        public int Iterations { get; private set; }
        public InstanceTally Tally { get; private set; } = new(maxInstance);
        public double MeanLoss => Iterations == 0 ? double.NaN : _loss / Iterations;

        public void Add(double loss, bool[] correct, int[] instances)
        {
            _loss += loss;
            Iterations++;
            Tally.Add(correct, instances);
        }

        public void Reset()
        {
            _loss = 0;
            Iterations = 0;
            Tally = new InstanceTally(maxInstance);
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
