using MannLab.Data;
using MannLab.Spec;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MannLab.Models;

/// <summary>
/// The paper's Table 2 baselines, k-nearest-neighbour with k = 1: within an episode, each image
/// takes the label of its nearest earlier image (Euclidean distance), on raw pixels or in an
/// autoencoder's code space ("kNN on deep features"). The label of step s arrives with step s + 1's
/// input, so every earlier step's label is known when step t is labelled. The output is that label's
/// vector, so argmax scoring (Scoring.Correct) reads the guess as it reads any model's; step 0 has no
/// earlier image and outputs zeros, a guess of the first label.
/// </summary>
public sealed class NearestNeighbourModel : EpisodeModel
{
    private readonly int pixels;
    private readonly Autoencoder? autoencoder;

    /// <param name="pixels">Image pixels per step: the input's first columns; the rest is y_{t-1}.</param>
    public NearestNeighbourModel(KnnFeatures features, int pixels) : base(nameof(NearestNeighbourModel))
    {
        this.pixels = pixels;
        autoencoder = features is KnnFeatures.Autoencoder { autoencoder: var a } ? new Autoencoder(pixels, a.Hidden, a.Code) : null;
        RegisterComponents();
    }

    /// <summary>The input and code of the last training forward, with the code's graph, for <see cref="Loss"/> to decode.</summary>
    private (Tensor Input, Tensor Code)? encoded;

    public override Tensor forward(Tensor input)
    {
        long batch = input.shape[0], steps = input.shape[1], labelWidth = input.shape[2] - pixels;
        var images = input[.., .., ..pixels];
        var features = images;
        if (autoencoder is not null)
        {
            var code = autoencoder.Encode(images);
            // A training step's loss decodes this very code: the images are encoded once per step.
            encoded = training && is_grad_enabled() ? (input, code) : null;
            features = code.detach();
        }
        using var _ = no_grad();
        // Exact differences, not |a|^2 + |b|^2 - 2ab: ties between identical images must stay ties.
        var distances = cdist(features, features, compute_mode: compute_mode.donot_use_mm_for_euclid_dist);
        var later = ones(steps, steps, ScalarType.Bool, input.device).triu(); // [t, s]: s >= t is not earlier
        // A rooted Scalar (Scalars): an implicit one can be freed by a collection under libtorch.
        var nearest = distances.masked_fill(later, Scalars.Of(double.PositiveInfinity)).argmin(2); // [B, T]; ties: the first
        // known[b, s] = y_s, which the input carries at step s + 1; the last step's is never needed.
        var known = cat([input[.., 1.., pixels..], zeros(batch, 1, labelWidth, input.dtype, input.device)], 1);
        var guess = known.gather(1, nearest.unsqueeze(2).expand(batch, steps, labelWidth));
        var hasEarlier = later[.., 0].logical_not().to(input.dtype).reshape(1, steps, 1); // s = 0 is earlier than every t > 0
        return guess.mul(hasEarlier);
    }

    /// <summary>
    /// With an autoencoder, what it trains on: how well it reconstructs the episode's images (the
    /// labels play no part). On raw pixels there is nothing to train, and the loss is the guesses'.
    /// </summary>
    public override Tensor Loss(Tensor input, Tensor logits, Tensor targets, LabelCodec codec)
    {
        if (autoencoder is null) return base.Loss(input, logits, targets, codec);
        var code = encoded is { } e && ReferenceEquals(e.Input, input) ? e.Code : null;
        encoded = null;
        return autoencoder.ReconstructionLoss(input[.., .., ..pixels], code);
    }

    /// <summary>
    /// An MLP autoencoder: pixels → hidden → hidden → code, and back. The transcription gives
    /// "200-unit layers, 32-unit bottleneck"; two layers on each side, ReLU between them, and a
    /// per-pixel sigmoid with cross-entropy to the ink (pixels are ink in [0, 1]) are MannLab's choice.
    /// </summary>
    private sealed class Autoencoder : Module<Tensor, Tensor>
    {
        private readonly Sequential encoder, decoder;

        public Autoencoder(int pixels, int hidden, int code) : base(nameof(Autoencoder))
        {
            encoder = Sequential(Linear(pixels, hidden), ReLU(), Linear(hidden, hidden), ReLU(), Linear(hidden, code));
            decoder = Sequential(Linear(code, hidden), ReLU(), Linear(hidden, hidden), ReLU(), Linear(hidden, pixels));
            RegisterComponents();
        }

        public Tensor Encode(Tensor images) => encoder.call(images);

        /// <summary>Reconstruction logits.</summary>
        public override Tensor forward(Tensor images) => decoder.call(encoder.call(images));

        /// <param name="code">These images' code, if the caller has it; else they are encoded here.</param>
        public Tensor ReconstructionLoss(Tensor images, Tensor? code = null) =>
            functional.binary_cross_entropy_with_logits(decoder.call(code ?? encoder.call(images)), images);
    }
}
