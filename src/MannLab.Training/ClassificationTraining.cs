using MannLab.Data;
using MannLab.Models;
using MannLab.Runs;
using MannLab.Spec;
using static TorchSharp.torch;
using Device = TorchSharp.torch.Device;

namespace MannLab.Training;

/// <summary>
/// The one-shot task (Santoro et al. 2016, section 4.1): episodes of images and the previous step's
/// label, per-instance accuracy in training windows (one class count each, under a curriculum) and
/// on held-out classes, and, to complete a run, the raw-pixel kNN on the same episodes and the
/// evaluations at evaluation.classes.
/// </summary>
internal sealed class ClassificationTraining : TaskTraining
{
    private readonly Spec.Spec _spec;
    private readonly ITrainingSink _sink;
    private readonly Device _device;
    private readonly EpisodeSampler _train, _test;
    private readonly IReadOnlyList<EpisodeSampler> _byClasses;
    private readonly LabelCodec _codec;
    private readonly int[] _report;
    private readonly int _maxInstance;
    private InstanceTally _tally;
    private EpisodeStream? _stream;
    private EpisodeBatch? _batch;

    public ClassificationTraining(Spec.Spec spec, ITrainingSink sink, Device device, Action<string>? log)
    {
        (_spec, _sink, _device) = (spec, sink, device);
        (_train, _test, _byClasses) = Datasets.Prepare(spec, log).Samplers(spec);
        _codec = _train.Codec;
        _report = [.. spec.Evaluation.Instances];
        _maxInstance = _report.Max();
        _tally = new InstanceTally(_maxInstance);
    }

    public override EpisodeModel CreateModel() => ModelFactory.Create(_spec.Model, _train.ImagePixels, _codec);

    public override Tensor Loss(EpisodeModel model, Tensor input, Tensor output, Tensor targets) => model.Loss(input, output, targets, _codec);

    public override int WindowAt(long episode) => _train.ClassesAt(episode);

    public override void StartAt(long episode) => _stream = new EpisodeStream(_train, _spec.Training.BatchSize, episode);

    public override int Next()
    {
        _batch = (_stream ?? throw new InvalidOperationException("StartAt first")).Next();
        return _batch.Classes;
    }

    private EpisodeBatch Current => _batch ?? throw new InvalidOperationException("Next first");

    public override (Tensor Input, Tensor Targets) Tensors()
    {
        var tensors = EpisodeTensors.From(Current, _device);
        return (tensors.Input, tensors.Targets);
    }

    public override void Accumulate(Tensor output, Tensor targets) => _tally.Add(Scoring.Correct(output, targets, _codec), Current.Instances);

    public override (IReadOnlyList<Metric> Metrics, IReadOnlyList<InstanceAccuracy> Rows) CloseWindow(long episode, int window)
    {
        var tally = _tally;
        _tally = new InstanceTally(_maxInstance);
        List<Metric> metrics = [new(episode, "train_accuracy", tally.Overall), .. _report.Select(k => new Metric(episode, $"train_acc_{k}", tally.Accuracy(k)))];
        if (_spec.Task.Curriculum is not null) metrics.Add(new Metric(episode, Metric.CurriculumClasses, window));
        return (metrics, tally.Rows(episode, "train", window, Enumerable.Range(1, _maxInstance)));
    }

    public override IReadOnlyDictionary<int, double> WindowAccuracy() => _report.ToDictionary(k => k, _tally.Accuracy);

    /// <summary>
    /// Per-instance accuracy and loss on the fixed, seeded evaluation episodes (held-out classes,
    /// no jitter), recorded as split "test" at the task's classes.
    /// </summary>
    public override Evaluated Evaluate(EpisodeModel model, long episode)
    {
        var (loss, tally) = Run(model, _test);
        List<Metric> metrics = [new(episode, "eval_loss", loss), new(episode, "eval_accuracy", tally.Overall)];
        metrics.AddRange(_report.Select(k => new Metric(episode, $"eval_acc_{k}", tally.Accuracy(k))));
        var rows = tally.Rows(episode, "test", _test.ClassesAt(0), Enumerable.Range(1, _maxInstance));
        return new Evaluated(metrics, rows, rows.ToDictionary(r => r.Instance, r => r.Accuracy));
    }

    /// <summary>
    /// The raw-pixel kNN on the final evaluation's episodes, then the evaluations at the other class
    /// counts of evaluation.classes: no metrics, the count is a dimension of the rows, and the views
    /// and pages read it from there.
    /// </summary>
    public override IReadOnlyList<InstanceAccuracy> Complete(EpisodeModel model, long episode, IReadOnlyList<InstanceAccuracy> final)
    {
        RecordNearestNeighbour(episode, final);
        List<InstanceAccuracy> byClasses = [];
        foreach (var sampler in _byClasses)
        {
            var rows = Run(model, sampler).Tally.Rows(episode, "test", sampler.ClassesAt(0), Enumerable.Range(1, _maxInstance));
            _sink.Record([], rows);
            byClasses.AddRange(rows);
        }
        return byClasses;
    }

    public override (Tensor Input, int[] Sights) HeldOutEpisode()
    {
        var batch = _test.Batch(0, 1);
        return (EpisodeTensors.From(batch, _device).Input, batch.Instances);
    }

    private (double Loss, InstanceTally Tally) Run(EpisodeModel model, EpisodeSampler sampler) =>
        Evaluation.Run(model, sampler, _codec, _device, _spec.Evaluation.Episodes, _spec.Training.BatchSize, _maxInstance);

    /// <summary>
    /// The paper's Table 2 baseline on the very same evaluation episodes: nearest neighbour on raw
    /// pixels (no training), recorded as split "knn" next to the model's final evaluation. A run
    /// of that very baseline has just been scored on these episodes: its rows are the baseline's.
    /// </summary>
    private void RecordNearestNeighbour(long episode, IReadOnlyList<InstanceAccuracy> modelRows)
    {
        IReadOnlyList<InstanceAccuracy> rows;
        if (_spec.Model is Model.Knn { features.IsRawPixels: true }) rows = [.. modelRows.Select(r => r with { Split = "knn" })];
        else
        {
            using var rawPixels = new NearestNeighbourModel(KnnFeatures.RawPixels, _test.ImagePixels);
            rows = Run(rawPixels, _test).Tally.Rows(episode, "knn", _spec.Task.Classes, Enumerable.Range(1, _maxInstance));
        }
        _sink.Record([.. _report.Select(k => rows.Single(r => r.Instance == k)).Select(r => new Metric(episode, $"knn_acc_{r.Instance}", r.Accuracy))], rows);
    }

    public override void Dispose() => _stream?.Dispose();
}
