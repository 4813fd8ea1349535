using System.Diagnostics;
using MannLab.Data;
using MannLab.Models;
using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Training;

/// <summary>
/// Times training iterations (forward, backward, optimiser step) at the paper's size, the spec
/// language's defaults (<see cref="Experiments.paper"/>, <see cref="PaperSize"/>), with the step
/// training takes (<see cref="TrainingStep"/>). Inputs are fixed random tensors, as in the PyTorch
/// peer, so only the model is timed.
/// </summary>
public static class Benchmark
{
    private static readonly Spec.Spec Paper = Experiments.paper;
    private static readonly Spec.MannModel PaperMann = ((Model.Mann)Paper.Model).mann;

    public static readonly int Batch = Paper.Training.BatchSize, Steps = Paper.EpisodeLength, ImageSize = Paper.Dataset.ImageSize,
        Pixels = ImageSize * ImageSize, Classes = Paper.Task.Classes, Hidden = PaperMann.Hidden,
        Slots = PaperMann.Memory.Slots, Width = PaperMann.Memory.Width, Heads = PaperMann.Memory.ReadHeads;

    /// <summary>The size in words, for help and reports.</summary>
    public static string PaperSize =>
        $"batch {Batch} x {Steps} steps, {ImageSize}x{ImageSize} inputs, {Classes} classes, controller {Hidden}, " +
        $"memory {Slots}x{Width}, {Heads} read heads";

    public sealed record Result(string Model, int Threads, int Iterations, double MedianMs, double MinMs, double MaxMs,
        double EpisodesPerSecond, long PeakRssBytes, double GemmGflops, double ModelGflopPerIteration, double ComputeBoundMs,
        double ForwardMs, double BackwardMs, double StepMs, MemoryTrend Memory)
    {
        public double RatioToComputeBound => MedianMs / ComputeBoundMs;
    }

    /// <summary>Resident memory over the timed iterations: its least-squares growth, and its first and last reading.</summary>
    public sealed record MemoryTrend(double GrowthMbPer1000Iterations, double FirstMb, double LastMb, long FromIteration, long ToIteration);

    /// <summary>
    /// The models bench times, in the spec language over the paper's defaults: the model sections of
    /// experiments/paper/table1-*.yaml, which a test keeps them equal to.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Kinds = new Dictionary<string, string>
    {
        ["feedforward"] = "{kind: feedforward}",
        ["lstm"] = "{kind: lstm}",
        ["mann"] = "{kind: mann}",
        ["mann-extended"] = "{kind: mann, lrua: {least_used: per-head, key_strength: learned, write: add-vector}}",
    };

    public static Model PaperModel(string kind)
    {
        if (!Kinds.TryGetValue(kind, out var model))
            throw new ArgumentException($"unknown model '{kind}': {string.Join(", ", Kinds.Keys)}", nameof(kind));
        var spec = Experiments.parse("bench", $"name: bench\nmodel: {model}\n");
        return spec.IsOk ? spec.ResultValue.Runs.Head.Spec.Model : throw new InvalidOperationException(string.Join("; ", spec.ErrorValue));
    }

    /// <param name="fused">For a MANN: the fused recurrence (the CPU's default), or the module path.</param>
    public static Result Run(string kind, int threads, int iterations, bool fused = true, int warmup = 3)
    {
        TorchRuntime.BeforeTorchLoads(fused && TorchRuntime.SplitsFusedRecurrence(PaperModel(kind), threads, Spec.Device.Cpu));
        set_num_threads(threads);
        manual_seed(0);
        var codec = new LabelCodec(Paper.Task.Labels, Classes);
        using var model = ModelFactory.Create(PaperModel(kind), Pixels, codec);
        if (model is Models.MannModel mann) mann.Fused = fused;
        var parameters = model.parameters().ToArray();
        using var optimizer = Optimizers.Create(Paper.Training.Optimizer, parameters);
        // The paper spec's clipping too: bench times the step a paper run takes.
        var step = new TrainingStep(model, optimizer, parameters, (i, o, t) => model.Loss(i, o, t, codec), Paper.Training.GradClip is { } clip ? clip.Value : null);
        using var input = rand(Batch, Steps, Pixels + Classes);
        using var targets = randint(0, Classes, [Batch, Steps, 1], ScalarType.Int64);
        List<double> times = [], forward = [], backward = [], optimiserStep = [];
        List<(long, double)> resident = [];
        for (var i = 0; i < warmup + iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            TrainingStep.Outcome done;
            using (NewDisposeScope()) done = step.Run(input, targets, LearningRate.peak(Paper.Training));
            if (i < warmup) continue;
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            forward.Add(done.Forward.TotalMilliseconds);
            backward.Add(done.Backward.TotalMilliseconds);
            optimiserStep.Add(done.OptimiserStep.TotalMilliseconds);
            resident.Add((i + 1, Rss()));
        }
        var median = Median(times);
        var gemm = GemmGflops(kind);
        var flop = ModelGflop(kind, model);
        return new Result(kind, threads, iterations, median, times.Min(), times.Max(), Batch * 1000 / median, PeakRss(), gemm, flop,
            flop / gemm * 1000, Median(forward), Median(backward), Median(optimiserStep), Trend(resident));
    }

    /// <summary>
    /// The trend over the later half of the timed iterations: the first ones still fill caches and
    /// grow the heaps to their working size, which is not a leak.
    /// </summary>
    private static MemoryTrend Trend(List<(long Iteration, double Bytes)> resident)
    {
        var later = resident.Skip(resident.Count / 2).ToList();
        if (later.Count < 2) return new MemoryTrend(double.NaN, resident[0].Bytes / 1e6, resident[^1].Bytes / 1e6, resident[0].Iteration, resident[^1].Iteration);
        return new MemoryTrend(MemoryGrowth.SlopeBytesPerIteration(later) * 1000 / 1e6, later[0].Bytes / 1e6, later[^1].Bytes / 1e6,
            later[0].Iteration, later[^1].Iteration);
    }

    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>
    /// Floating-point work of one training iteration, counting the matrix products (forward, and
    /// twice that backward), which dominate: the compute-bound time is this over the GEMM rate.
    /// </summary>
    public static double ModelGflop(string kind, EpisodeModel model)
    {
        double bt = Batch * Steps, inputs = Pixels + Classes;
        double forward = kind switch
        {
            "feedforward" => 2 * bt * (inputs * Hidden + Hidden * Classes),
            "lstm" => 2 * bt * (inputs * 4 * Hidden + Hidden * 4 * Hidden + Hidden * Classes),
            // The memory's head width comes from the memory itself (the extended one emits more).
            _ => 2 * bt * (inputs * 4 * Hidden + (Heads * Width + Hidden) * 4 * Hidden
                           + Hidden * ((Models.MannModel)model).Memory.HeadOutputs
                           + (Hidden + Heads * Width) * Classes + 3 * Slots * Heads * Width),
        };
        return 3 * forward / 1e9;
    }

    /// <summary>This machine's measured GEMM rate on the model's own matrix shapes, on the current thread count.</summary>
    public static double GemmGflops(string kind)
    {
        var shapes = new List<(long M, long K, long N)> { (Batch * Steps, Pixels + Classes, kind == "feedforward" ? Hidden : 4 * Hidden) };
        if (kind != "feedforward") shapes.Add((Batch, (PaperModel(kind).IsMann ? Heads * Width : 0) + Hidden, 4 * Hidden));
        double flop = 0, seconds = 0;
        foreach (var (m, k, n) in shapes)
        {
            using var a = rand(m, k);
            using var b = rand(k, n);
            var repeats = (int)Math.Max(20, 2e9 / (2.0 * m * k * n));
            for (var i = 0; i < 3; i++) mm(a, b).Dispose();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < repeats; i++) mm(a, b).Dispose();
            seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
            flop += 2.0 * m * k * n * repeats;
        }
        return flop / seconds / 1e9;
    }

    /// <summary>Peak resident memory of this process (VmHWM), in bytes.</summary>
    public static long PeakRss() => ProcStatus("VmHWM");

    /// <summary>Current resident memory of this process (VmRSS), in bytes.</summary>
    public static long Rss() => ProcStatus("VmRSS");

    private static long ProcStatus(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":"));
        // "VmRSS:\t  123456 kB": the kernel pads the number to 8 places after the tab, so from
        // 10,000,000 kB up nothing but the tab separates them.
        return line is null ? 0 : long.Parse(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>
    /// How fast the episode producer makes paper-size batches on synthetic glyphs, and how long a
    /// consumer working at <paramref name="iterationMs"/> per batch waited for data.
    /// </summary>
    public static (double EpisodesPerSecond, double WaitedMs, int Batches) DataThroughput(double iterationMs, int batches = 20)
    {
        var dataset = Experiments.paperSynthetic.Dataset;
        var set = GlyphGenerator.Generate(((DatasetSource.Synthetic)dataset.Source).glyphs, dataset.ImageSize);
        var train = ((ClassSplit.Paper)dataset.Split).trainCharacters;
        var classes = DataSplit.Classes([.. Enumerable.Range(0, train)], dataset.RotationClasses);
        var sampler = new EpisodeSampler(set, classes, Experiments.paperSynthetic.Task, dataset.Augment, 0, 1);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < batches; i++) sampler.Batch(i * Batch, Batch);
        var rate = batches * Batch / Stopwatch.GetElapsedTime(start).TotalSeconds;
        using var stream = new EpisodeStream(sampler, Batch, 0);
        stream.Next(); // the first batch is the start-up, not steady state
        var waitedBefore = stream.Waited;
        for (var i = 0; i < batches; i++)
        {
            stream.Next();
            Thread.Sleep(TimeSpan.FromMilliseconds(iterationMs)); // a consumer as busy as training
        }
        return (rate, (stream.Waited - waitedBefore).TotalMilliseconds, batches);
    }
}
