using Microsoft.FSharp.Core;

namespace MannLab.Spec.Tests;

/// <summary>A spec states only what differs from the paper's 5-way one-hot setting.</summary>
public class DefaultsTests
{
    [Fact]
    public void A_minimal_mann_spec_resolves_to_the_papers_setting()
    {
        var spec = SpecText.Single("name: minimal\nmodel:\n  kind: mann\n");

        spec.Dataset.Source.Should().Be(DatasetSource.NewOmniglot(FSharpOption<string>.None));
        spec.Dataset.ImageSize.Should().Be(20);
        spec.Dataset.RotationClasses.Should().BeTrue();
        spec.Dataset.Split.Should().Be(ClassSplit.NewPaper(1200));
        spec.Task.Classes.Should().Be(5);
        spec.Task.Shape.Should().Be(EpisodeShape.NewInstancesPerClass(10));
        spec.Task.Labels.Should().Be(LabelEncoding.OneHot);
        spec.EpisodeLength.Should().Be(50);

        var mann = spec.Model.Should().BeOfType<Model.Mann>().Subject.mann;
        mann.Controller.Should().Be(ControllerKind.LstmController);
        mann.Hidden.Should().Be(200);
        (mann.Memory.Slots, mann.Memory.Width, mann.Memory.ReadHeads, mann.Memory.Persistent).Should().Be((128, 40, 4, false));
        mann.Access.Should().Be(Access.NewLrua(new LruaAccess(0.95, LeastUsedRule.Literal, false, false)));

        spec.Training.Optimizer.Should().Be(Optimizer.NewRmsProp(new RmsPropSettings(1e-4, 0.9, 0.95)));
        spec.Training.BatchSize.Should().Be(16);
        spec.Training.Episodes.Should().Be(100_000);
        spec.Training.GradClip.Should().Be(FSharpOption<double>.Some(10.0));
        spec.Training.Device.Should().Be(Device.Cpu);
        spec.Training.Threads.Should().Be(1);
        spec.Evaluation.Instances.ToList().Should().Equal(1, 2, 3, 4, 5, 10);
        spec.Queue.Should().Be(Queue.CpuQueue);
        spec.Priority.Should().Be(Priority.Normal);
    }

    [Fact]
    public void Adam_gets_its_own_defaults()
    {
        var spec = SpecText.Single("name: x\nmodel: {kind: lstm}\ntraining:\n  optimizer: adam\n");
        spec.Training.Optimizer.Should().Be(Optimizer.NewAdam(new AdamSettings(1e-3, 0.9, 0.999)));
    }

    [Fact]
    public void Default_evaluation_instances_stop_at_the_instances_per_class()
    {
        var spec = SpecText.Single("name: x\nmodel: {kind: lstm}\ntask:\n  instances: 4\n");
        spec.Evaluation.Instances.ToList().Should().Equal(1, 2, 3, 4);
    }

    [Fact]
    public void A_cuda_device_defaults_to_the_gpu_queue() =>
        SpecText.Single("name: x\nmodel: {kind: lstm}\ntraining:\n  device: cuda\n").Queue.Should().Be(Queue.GpuQueue);

    [Fact]
    public void Grad_clip_null_turns_clipping_off() =>
        SpecText.Single("name: x\nmodel: {kind: lstm}\ntraining:\n  grad_clip: null\n").Training.GradClip.Should().BeNull();

    [Fact]
    public void Synthetic_source_trains_on_three_quarters_of_its_characters()
    {
        var spec = SpecText.Single("name: x\nmodel: {kind: lstm}\ndataset:\n  source: synthetic\n  synthetic: {alphabets: 10, characters: 8}\n");
        spec.Dataset.Split.Should().Be(ClassSplit.NewPaper(60));
        spec.Dataset.Source.Should().Be(DatasetSource.NewSynthetic(new SyntheticGlyphs(10, 8, 20, 0)));
    }

    [Fact]
    public void Numbers_may_be_written_with_exponents_and_underscores()
    {
        var spec = SpecText.Single("name: x\nmodel: {kind: lstm}\ntraining:\n  episodes: 1e5\n  batch_size: 1_6\n");
        (spec.Training.Episodes, spec.Training.BatchSize).Should().Be((100_000, 16));
    }
}
