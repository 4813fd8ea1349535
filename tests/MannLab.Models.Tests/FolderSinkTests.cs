using MannLab.Training;

namespace MannLab.Models.Tests;

/// <summary>A training folder resumed by a later MannLab keeps one CSV form throughout.</summary>
public class FolderSinkTests : IDisposable
{
    private readonly TrainingFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Resuming_a_folder_written_before_tallies_had_a_class_count_gives_its_rows_the_tasks_classes()
    {
        var run = TrainingFolder.Spec(TrainingFolder.SmallMann);
        var (sink, folder) = _folder.Sink(run, "old");
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, "metrics.csv"), ["episode,name,value", "8,loss,1.5", "16,loss,1.25"]);
        File.WriteAllLines(Path.Combine(folder, "instances.csv"),
            ["episode,split,instance,correct,total,accuracy", "8,train,1,2,8,0.25", "16,train,1,4,8,0.5"]);

        sink.Started(8, TorchEnvironment.Capture(TorchSharp.torch.CPU, 1));

        File.ReadAllLines(Path.Combine(folder, "instances.csv")).Should().Equal(
            "episode,split,instance,correct,total,accuracy,classes", "8,train,1,2,8,0.25,3");
        File.ReadAllLines(Path.Combine(folder, "metrics.csv")).Should().Equal("episode,name,value", "8,loss,1.5");
    }
}
