using System.CommandLine;
using MannLab.Data;
using MannLab.Models;
using MannLab.Runs;
using MannLab.Training;

namespace MannLab.Cli;

/// <summary><c>mannlab train FILE [--point K] [--out DIR]</c>: one run, locally, without a database.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An experiment spec" };
        var point = new Option<int>("--point") { Description = "Which run of a sweep (see `mannlab plan`)", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Output folder (default: runs/<name>-<run id>); a checkpoint there is resumed" };
        var command = new Command("train", "Train one run of a spec locally: live progress; metrics, per-instance table and checkpoint in the output folder. " +
                                           "Ctrl-C checkpoints; the same command resumes.");
        command.Arguments.Add(file);
        command.Options.Add(point);
        command.Options.Add(output);
        command.SetAction(parse => Run(parse.GetValue(file)!, parse.GetValue(point), parse.GetValue(output)));
        return command;
    }

    public static int Run(string file, int point, string? output)
    {
        var experiment = SpecFiles.LoadOrReport(file, Console.Error);
        if (experiment is null) return TrainingExitCode.NotStarted;
        if (point < 0 || point >= experiment.Runs.Length)
        {
            Console.Error.WriteLine($"error: --point {point} is out of range: {file} has {experiment.Runs.Length} run(s), 0 to {experiment.Runs.Length - 1}");
            return TrainingExitCode.NotStarted;
        }
        var run = experiment.Runs[point];
        var spec = run.Spec;
        var folder = output ?? Path.Combine("runs", $"{spec.Name}-{run.Id}");
        var sink = new FolderSink(folder, run.Id, run.Json, run.PointText);
        if (File.Exists(sink.CheckpointFile))
        {
            var header = CheckpointHeader.Read(sink.CheckpointFile);
            if (header.RunId != run.Id)
            {
                Console.Error.WriteLine($"error: {sink.CheckpointFile} belongs to run {header.RunId}, not {run.Id} (the spec changed); use another --out");
                return TrainingExitCode.NotStarted;
            }
        }
        Console.WriteLine($"run {run.Id}: {spec.Name}{(run.PointText == "" ? "" : $" [{run.PointText}]")}, " +
                          $"{SpecFiles.Describe(spec.Model)}, {SpecFiles.Describe(spec.Task)}, {spec.EpisodesToTrain} episodes -> {folder}");

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // let training checkpoint and stop at the next iteration
            if (cancel.IsCancellationRequested) return;
            Console.Error.WriteLine("\nstopping: checkpointing at the next iteration...");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        var display = new ProgressLine();
        try
        {
            TorchRuntime.BeforeTorchLoads(TorchRuntime.SplitsFusedRecurrence(spec.Model, spec.Training.Threads, spec.Training.Device));
            var trainer = new Trainer(spec, run.Id, sink.CheckpointFile, sink, display.Show, message => display.Log(message));
            var result = trainer.Run(cancel.Token);
            display.End();
            switch (result.Outcome)
            {
                case Outcome.Completed:
                    if (result.FinalEvaluation.Count > 0) Console.Write(FolderSink.FinalTable(result.FinalEvaluation));
                    Console.WriteLine($"results in {folder}");
                    return TrainingExitCode.Completed;
                case Outcome.Interrupted:
                    Console.WriteLine($"interrupted at episode {result.Episodes}; checkpoint in {sink.CheckpointFile}. Run the same command to resume.");
                    return TrainingExitCode.Interrupted;
                default:
                    Console.Error.WriteLine($"error: run {run.Id} failed: {result.Reason}");
                    return TrainingExitCode.Failed;
            }
        }
        catch (Exception e) when (e is DataException or DiskFullException) // a full disk can keep the failure itself from being recorded
        {
            display.End();
            Console.Error.WriteLine("error: " + e.Message);
            return TrainingExitCode.NotStarted;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>
    /// One line of live progress: rewritten in place on a terminal (a few times a second), printed
    /// as a new line at each evaluation otherwise (logs, pipes).
    /// </summary>
    private sealed class ProgressLine
    {
        private readonly bool _terminal = !Console.IsOutputRedirected;
        private DateTime _last = DateTime.MinValue;
        private object? _lastEval;
        private bool _open;

        public void Show(TrainingProgress p)
        {
            var heldOut = (object?)p.EvalAccuracy ?? p.HeldOut;
            var evaluated = heldOut is not null && !ReferenceEquals(heldOut, _lastEval);
            _lastEval = heldOut;
            var now = DateTime.UtcNow;
            if (_terminal ? now - _last < TimeSpan.FromMilliseconds(250) && !evaluated : !evaluated) return;
            _last = now;
            string Accuracies(IReadOnlyDictionary<int, double> a) =>
                string.Join(" ", new[] { 1, 2, 5, 10 }.Where(a.ContainsKey).Select(k => $"{RunFormat.Ordinal(k)} {100 * a[k]:F0}%"));
            var line = $"episode {p.Episode}/{p.TotalEpisodes}  {p.EpisodesPerSecond:F0} ep/s  loss {p.TrainLoss:F3}" +
                       (p.TrainAccuracy.Count > 0 ? $"  train {Accuracies(p.TrainAccuracy)}" : "") +
                       (p.EvalAccuracy is { } e ? $"  | held-out {Accuracies(e)}" : p.HeldOut is { } h ? $"  | {h}" : "");
            if (_terminal)
            {
                Console.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth - 1, 160))[..Math.Min(line.Length + 10, Math.Max(1, Console.WindowWidth - 1))]);
                _open = true;
            }
            else
            {
                Console.WriteLine(line);
            }
        }

        public void Log(string message)
        {
            End();
            Console.WriteLine(message);
        }

        public void End()
        {
            if (_open) Console.WriteLine();
            _open = false;
        }
    }
}
