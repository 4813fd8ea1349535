using System.CommandLine;
using MannLab.Data;
using MannLab.Models;
using MannLab.Runs;
using MannLab.Spec;
using MannLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Cli;

/// <summary><c>mannlab inspect CHECKPOINT --out memory.png</c>: the memory of a trained MANN at work on a held-out episode.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint.bin written by training" };
        var output = new Option<string>("--out") { Description = "PNG file to write", Required = true };
        var episode = new Option<long>("--episode") { Description = "Which evaluation episode", DefaultValueFactory = _ => 0 };
        var command = new Command("inspect", "Draw a trained MANN's read, write and usage weights, step by step, on a held-out episode");
        command.Arguments.Add(checkpoint);
        command.Options.Add(output);
        command.Options.Add(episode);
        command.SetAction(parse => Run(parse.GetValue(checkpoint)!, parse.GetValue(output)!, parse.GetValue(episode)));
        return command;
    }

    public static int Run(string file, string output, long episode)
    {
        if (!File.Exists(file))
        {
            Console.Error.WriteLine($"error: {file}: no such checkpoint");
            return 1;
        }
        var header = CheckpointHeader.Read(file);
        // Checkpoints carry their spec; older ones rely on the spec.json written beside them.
        var beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "spec.json");
        var specJson = !string.IsNullOrEmpty(header.Spec) ? header.Spec : File.Exists(beside) ? File.ReadAllText(beside) : null;
        if (specJson is null)
        {
            Console.Error.WriteLine($"error: {file}: the checkpoint holds no spec and there is no spec.json beside it");
            return 1;
        }
        var parsed = Experiments.specOfJson(specJson);
        if (parsed.IsError)
        {
            foreach (var e in parsed.ErrorValue) Console.Error.WriteLine(e.ToString());
            return 1;
        }
        var spec = parsed.ResultValue;
        if (!spec.Model.IsMann)
        {
            Console.Error.WriteLine($"error: {file}: a {SpecFiles.Describe(spec.Model)} model has no external memory to inspect");
            return 1;
        }
        try
        {
            var png = Render(spec, file, episode, out var title, m => Console.Error.WriteLine(m));
            File.WriteAllBytes(output, png);
            Console.WriteLine($"{output}: {title}");
            return 0;
        }
        catch (DataException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    /// <summary>
    /// The memory picture of a MANN checkpoint on held-out episode <paramref name="episode"/>
    /// (<see cref="MemoryPicture"/>).
    /// </summary>
    private static byte[] Render(Spec.Spec spec, string checkpoint, long episode, out string title, Action<string>? log = null)
    {
        var header = CheckpointHeader.Read(checkpoint);
        set_num_threads(spec.Training.Threads);
        var prepared = Datasets.Prepare(spec, log);
        var (_, test, _) = prepared.Samplers(spec);
        using var model = (Models.MannModel)ModelFactory.Create(spec.Model, test.ImagePixels, test.Codec);
        Checkpoint.LoadModel(checkpoint, model);
        title = MemoryPicture.Title(spec, header.RunId, header.Episode, episode);
        return MemoryPicture.Draw(model, test, episode, CPU, title);
    }
}
