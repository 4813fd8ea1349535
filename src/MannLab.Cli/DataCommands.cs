using System.CommandLine;
using System.Diagnostics;
using MannLab.Data;
using MannLab.Drawing;

namespace MannLab.Cli;

/// <summary><c>mannlab data info | fetch | show</c>.</summary>
public static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Inspect, download and look at datasets");
        data.Subcommands.Add(Info());
        data.Subcommands.Add(Fetch());
        data.Subcommands.Add(Show());
        return data;
    }

    /// <summary>Where Omniglot is downloaded from: <c>data fetch --from/--checksums</c>, and <c>up --data-from/--data-checksums</c>.</summary>
    public sealed record SourceOptions(Option<string?> From, Option<string?> Checksums)
    {
        public static SourceOptions Create(string prefix = "") => new(
            new Option<string?>($"--{prefix}from") { Description = "Base URL to download Omniglot from (default: the dataset authors' location)" },
            new Option<string?>($"--{prefix}checksums") { Description = "A SHA256SUMS file naming the archives to fetch (default: the authors' two archives)" });

        public IEnumerable<Option> All => [From, Checksums];

        public OmniglotFetcher.Source Resolve(ParseResult parse) => OmniglotFetcher.Source.From(parse.GetValue(From), parse.GetValue(Checksums));
    }

    /// <summary>Runs a data action; a DataException is the user's problem to fix, so it is printed, not thrown.</summary>
    private static int Guarded(Func<int> action)
    {
        try { return action(); }
        catch (DataException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static Command Info()
    {
        var path = new Option<string?>("--path") { Description = "Omniglot folder or archive (default: $MANNLAB_OMNIGLOT, data/omniglot, ../shared/omniglot)" };
        var size = new Option<int>("--image-size") { Description = "Preprocessed image size whose cache to report", DefaultValueFactory = _ => 20 };
        var command = new Command("info", "Alphabets, characters and images per subset, and the preprocessed cache's state and location");
        command.Options.Add(path);
        command.Options.Add(size);
        command.SetAction(parse => Guarded(() =>
        {
            var source = parse.GetValue(path) ?? Datasets.LocateOmniglot().Path;
            var imageSize = parse.GetValue(size);
            var parts = OmniglotReader.Locate(source);
            Console.WriteLine($"Omniglot at {Path.GetFullPath(source)}");
            foreach (var part in parts) Console.WriteLine($"  {part.Subset}: {(part.IsArchive ? "archive" : "folder")} {part.Path}");
            var (file, key) = Datasets.CacheOf(parts, imageSize);
            var state = GlyphCache.TryLoad(file, key).State;
            Console.WriteLine($"cache ({imageSize}x{imageSize}): {state.ToString().ToLowerInvariant()}, {file}");
            var clock = Stopwatch.StartNew();
            var set = Datasets.LoadOmniglot(source, imageSize, message => Console.WriteLine("  " + message));
            Console.WriteLine($"loaded in {clock.Elapsed.TotalSeconds:F2} s{(state == GlyphCache.State.Valid ? " (from the cache)" : "")}");
            var rows = set.Summary().Select(s => (IReadOnlyList<string>)[s.Subset, s.Alphabets.ToString(), s.Characters.ToString(), s.Images.ToString()]).ToList();
            rows.Add(["total", set.Summary().Sum(s => s.Alphabets).ToString(), set.Characters.Count.ToString(), set.ImageCount.ToString()]);
            TextTable.Write(Console.Out, ["subset", "alphabets", "characters", "images"], rows);
            return 0;
        }));
        return command;
    }

    private static Command Fetch()
    {
        var dataset = new Argument<string>("dataset") { Description = "The dataset to download: omniglot" };
        dataset.AcceptOnlyFromAmong("omniglot");
        var dest = new Option<string?>("--dest") { Description = "Where to put the archives (default: data/omniglot in MannLab's folder)" };
        var from = SourceOptions.Create();
        var command = new Command("fetch", "Download a dataset's archives, with progress, checksum verification and resume");
        command.Arguments.Add(dataset);
        command.Options.Add(dest);
        foreach (var option in from.All) command.Options.Add(option);
        command.SetAction(parse => Guarded(() =>
        {
            var destination = parse.GetValue(dest) ?? Datasets.FetchedOmniglot;
            var source = from.Resolve(parse);
            using var http = OmniglotFetcher.Client();
            var progress = new ConsoleProgress();
            var outcomes = OmniglotFetcher.FetchAsync(source, destination, progress, http).GetAwaiter().GetResult();
            progress.Finish();
            foreach (var (name, outcome) in outcomes) Console.WriteLine($"{Path.Combine(destination, name)}: {outcome}, checksum verified");
            return 0;
        }));
        return command;
    }

    /// <summary>Progress on stderr, at most a few times a second; a new line per file.</summary>
    private sealed class ConsoleProgress : IProgress<OmniglotFetcher.Progress>
    {
        private string? _file;
        private long _lastTicks;

        public void Report(OmniglotFetcher.Progress p)
        {
            var now = Stopwatch.GetTimestamp();
            if (p.File == _file && !p.Complete && Stopwatch.GetElapsedTime(_lastTicks, now) < TimeSpan.FromMilliseconds(250)) return;
            if (p.File != _file && _file is not null) Console.Error.WriteLine();
            _file = p.File;
            _lastTicks = now;
            Console.Error.Write($"\r{p}   ");
        }

        public void Finish()
        {
            if (_file is not null) Console.Error.WriteLine();
        }
    }

    private static Command Show()
    {
        var spec = new Argument<string>("spec") { Description = "An experiment spec" };
        var point = new Option<int>("--point") { Description = "Which run of a sweep (see `mannlab plan`)", DefaultValueFactory = _ => 0 };
        var split = new Option<string>("--split") { Description = "train (augmented) or test (held-out classes)", DefaultValueFactory = _ => "train" };
        split.AcceptOnlyFromAmong("train", "test");
        var episode = new Option<long>("--episode") { Description = "Episode index", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "PNG file to write", Required = true };
        var command = new Command("show", "Draw one episode as the model sees it: its images, labels and instance indices");
        command.Arguments.Add(spec);
        command.Options.Add(point);
        command.Options.Add(split);
        command.Options.Add(episode);
        command.Options.Add(output);
        command.SetAction(parse => Guarded(() =>
        {
            var experiment = SpecFiles.LoadOrReport(parse.GetValue(spec)!, Console.Error);
            if (experiment is null) return 1;
            var k = parse.GetValue(point);
            if (k < 0 || k >= experiment.Runs.Length)
            {
                Console.Error.WriteLine($"error: --point {k} is out of range: {experiment.File} has {experiment.Runs.Length} run(s), 0 to {experiment.Runs.Length - 1}");
                return 1;
            }
            var run = experiment.Runs[k].Spec;
            var prepared = Datasets.Prepare(run, message => Console.Error.WriteLine(message));
            var (train, test, _) = prepared.Samplers(run);
            var isTrain = parse.GetValue(split) == "train";
            var sampler = isTrain ? train : test;
            var index = parse.GetValue(episode);
            // Drawn within its training batch, so that EpisodeSampler.Batch gives it the class count it was trained at (a curriculum's).
            var first = index - index % run.Training.BatchSize;
            var batch = sampler.Batch(first, (int)(index - first) + 1);
            var title = $"{run.Name}: {(isTrain ? "training" : "test")} episode {index}, {SpecFiles.Describe(run.Task)}; {prepared.Set.Source}";
            var file = parse.GetValue(output)!;
            File.WriteAllBytes(file, EpisodeImage.Png(batch, (int)(index - first), sampler.Codec, prepared.Set.ImageSize, title));
            Console.WriteLine($"{file}: {batch.Steps} steps of {title}");
            return 0;
        }));
        return command;
    }
}
