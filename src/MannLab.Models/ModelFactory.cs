using MannLab.Data;
using MannLab.Spec;

namespace MannLab.Models;

/// <summary>Builds the model a spec names, for inputs of the given size.</summary>
public static class ModelFactory
{
    /// <param name="pixels">Image pixels per step.</param>
    /// <param name="codec">The label encoding: its vector width is part of the input, and sets the outputs.</param>
    public static EpisodeModel Create(Model model, int pixels, LabelCodec codec) =>
        model is Model.Knn k
            ? new NearestNeighbourModel(k.features, pixels)
            // N classes, or 5 characters x 5 symbols
            : Learner(model, pixels + codec.VectorWidth, codec.VectorWidth);

    /// <summary>A regression's model: input [x_t, y_{t-1}], output y_t's mean and log-variance (GaussianOutput).</summary>
    public static EpisodeModel ForRegression(Model model, int dimensions) => Learner(model, dimensions + 1, GaussianOutput.Width);

    private static EpisodeModel Learner(Model model, int inputs, int outputs) => model switch
    {
        Model.FeedForward f => new FeedForwardModel(inputs, f.hidden, outputs),
        Model.Lstm l => new LstmModel(inputs, l.hidden, outputs),
        // Controller, memory, output: the order their weights are drawn in.
        Model.Mann { mann: var m } => new MannModel(Controller.Create(m.Controller, inputs, m.Hidden, m.Memory.ReadHeads * m.Memory.Width),
            Memory(m), outputs),
        _ => throw new ArgumentOutOfRangeException(nameof(model), $"a {Schema.kindOf(model)} model has no controller"),
    };

    /// <summary>The external memory a MANN spec names, read by its controller's h_t.</summary>
    public static ExternalMemory Memory(Spec.MannModel m) => m.Access switch
    {
        Spec.Access.Lrua a => new LruaMemory(m.Hidden, m.Memory.Slots, m.Memory.Width, m.Memory.ReadHeads, a.lrua.Gamma, a.lrua.LeastUsed,
            a.lrua.LearnedKeyStrength, a.lrua.AddVector, m.Memory.Persistent),
        Spec.Access.Ntm n => new NtmMemory(m.Hidden, m.Memory.Slots, m.Memory.Width, m.Memory.ReadHeads, n.ntm.ShiftRange, m.Memory.Persistent),
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };
}
