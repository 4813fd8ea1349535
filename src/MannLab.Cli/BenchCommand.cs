using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MannLab.Training;

namespace MannLab.Cli;

/// <summary><c>mannlab bench</c>: training speed at the paper's size.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model")
        {
            Description = "mann (the paper's), mann-extended (per-head, key strength, add vector), lstm or feedforward",
            DefaultValueFactory = _ => "mann",
        };
        model.AcceptOnlyFromAmong([.. Benchmark.Kinds.Keys]);
        var threads = new Option<int>("--threads") { Description = "torch threads per process", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "timed iterations (after 3 warm-up ones)", DefaultValueFactory = _ => 20 };
        var processes = new Option<int>("--processes") { Description = "run this many benchmark processes at once (e.g. 2 on 2 cores, one thread each)", DefaultValueFactory = _ => 1 };
        var path = new Option<string>("--path")
        {
            Description = "a MANN's recurrence: fused (one hand-written autograd node, the CPU default) or modules (the TorchSharp reference path)",
            DefaultValueFactory = _ => "fused",
        };
        path.AcceptOnlyFromAmong("fused", "modules");
        var json = new Option<bool>("--json") { Description = "end with one JSON object on the last line" };
        var command = new Command("bench", $"Time training iterations (forward, backward, optimiser step) at the paper's size: {Benchmark.PaperSize}");
        foreach (var option in new Option[] { model, threads, iterations, processes, path, json }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var (m, t, n, p, j) = (parse.GetValue(model)!, parse.GetValue(threads), parse.GetValue(iterations), parse.GetValue(processes), parse.GetValue(json));
            var fused = parse.GetValue(path) == "fused";
            return p > 1 ? Parallel(m, t, n, p, fused, j) : Single(m, t, n, fused, j);
        });
        return command;
    }

    private static int Single(string model, int threads, int iterations, bool fused, bool json)
    {
        var r = Benchmark.Run(model, threads, iterations, fused);
        var pathName = !model.StartsWith("mann") ? "modules" : fused ? "fused" : "modules";
        Console.WriteLine($"{model}, paper size (batch {Benchmark.Batch} x {Benchmark.Steps} steps, {Benchmark.ImageSize}x{Benchmark.ImageSize}, controller {Benchmark.Hidden}" +
                          (model.StartsWith("mann") ? $", memory {Benchmark.Slots}x{Benchmark.Width}, {Benchmark.Heads} heads" : "") +
                          $"), {threads} thread{(threads == 1 ? "" : "s")}, {iterations} iterations" +
                          (model.StartsWith("mann") ? $", {pathName} path" : ""));
        Console.WriteLine($"  median {r.MedianMs:F1} ms/iteration (min {r.MinMs:F1}, max {r.MaxMs:F1}), {r.EpisodesPerSecond:F1} episodes/s");
        Console.WriteLine($"  forward {r.ForwardMs:F1} ms, backward {r.BackwardMs:F1} ms, optimiser step {r.StepMs:F1} ms (medians)");
        Console.WriteLine($"  peak resident memory {r.PeakRssBytes / 1e6:F0} MB; resident memory grew {r.Memory.GrowthMbPer1000Iterations:+0.0;-0.0} MB " +
                          $"per 1,000 iterations (least squares over iterations {r.Memory.FromIteration}-{r.Memory.ToIteration}: " +
                          $"{r.Memory.FirstMb:F0} MB to {r.Memory.LastMb:F0} MB)");
        Console.WriteLine($"  GEMM {r.GemmGflops:F1} GFLOP/s here on the model's shapes; the model does {r.ModelGflopPerIteration:F3} GFLOP/iteration " +
                          $"-> compute-bound {r.ComputeBoundMs:F1} ms; achieved/compute-bound {r.RatioToComputeBound:F2}x");
        var data = Benchmark.DataThroughput(r.MedianMs);
        Console.WriteLine($"  data: {data.EpisodesPerSecond:F0} episodes/s from the producer thread; training at {r.MedianMs:F0} ms/iteration " +
                          $"waited {data.WaitedMs:F1} ms in {data.Batches} batches");
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model, threads, iterations, path = pathName,
                ms_per_iteration_median = Math.Round(r.MedianMs, 2),
                ms_per_iteration_min = Math.Round(r.MinMs, 2),
                ms_per_iteration_max = Math.Round(r.MaxMs, 2),
                forward_ms = Math.Round(r.ForwardMs, 2),
                backward_ms = Math.Round(r.BackwardMs, 2),
                step_ms = Math.Round(r.StepMs, 2),
                episodes_per_second = Math.Round(r.EpisodesPerSecond, 1),
                peak_rss_mb = Math.Round(r.PeakRssBytes / 1e6, 1),
                rss_growth_mb_per_1000_iterations = Math.Round(r.Memory.GrowthMbPer1000Iterations, 2),
                rss_first_mb = Math.Round(r.Memory.FirstMb, 1),
                rss_last_mb = Math.Round(r.Memory.LastMb, 1),
                gemm_gflops = Math.Round(r.GemmGflops, 2),
                gflop_per_iteration = Math.Round(r.ModelGflopPerIteration, 4),
                compute_bound_ms = Math.Round(r.ComputeBoundMs, 2),
                ratio_to_compute_bound = Math.Round(r.RatioToComputeBound, 2),
                data_episodes_per_second = Math.Round(data.EpisodesPerSecond, 0),
                data_waited_ms = Math.Round(data.WaitedMs, 2),
            }));
        return 0;
    }

    /// <summary>Several benchmark processes at once, as several sweep points train side by side.</summary>
    private static int Parallel(string model, int threads, int iterations, int processes, bool fused, bool json)
    {
        var self = Environment.GetCommandLineArgs()[0];
        var host = Environment.ProcessPath!;
        var children = Enumerable.Range(0, processes).Select(_ =>
        {
            var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
            if (self.EndsWith(".dll")) start.ArgumentList.Add(self);
            foreach (var a in new[] { "bench", "--model", model, "--threads", threads.ToString(), "--iterations", iterations.ToString(),
                         "--path", fused ? "fused" : "modules", "--json" })
                start.ArgumentList.Add(a);
            return Process.Start(start)!;
        }).ToList();
        var results = children.Select(c =>
        {
            var output = c.StandardOutput.ReadToEnd();
            c.WaitForExit();
            return JsonNode.Parse(output.Trim().Split('\n')[^1])!;
        }).ToList();
        Console.WriteLine($"{model}, paper size, {processes} processes at once, {threads} thread{(threads == 1 ? "" : "s")} each, {iterations} iterations");
        foreach (var (r, i) in results.Select((r, i) => (r, i)))
            Console.WriteLine($"  process {i + 1}: median {(double)r["ms_per_iteration_median"]!:F1} ms/iteration, {(double)r["episodes_per_second"]!:F1} episodes/s");
        var total = results.Sum(r => (double)r["episodes_per_second"]!);
        Console.WriteLine($"  together: {total:F1} episodes/s");
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                model, threads, iterations, processes,
                ms_per_iteration_median = results.Select(r => (double)r["ms_per_iteration_median"]!).Max(),
                episodes_per_second = Math.Round(total, 1),
                per_process = results,
            }));
        return 0;
    }
}
