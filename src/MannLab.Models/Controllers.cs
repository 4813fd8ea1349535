using MannLab.Spec;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MannLab.Models;

/// <summary>
/// A MANN's controller (Santoro et al. 2016, section 3.1): at step t it reads [x_t, y_{t-1}] and the
/// previous read r_{t-1} and emits h_t, from which the memory's head and the output layer read.
/// The part of its first layer on [x_t, y_{t-1}] is computed for all steps in one GEMM before the
/// recurrence; only the recurrent weight, on [r_{t-1}, h_{t-1}], is applied step by step.
/// With <c>deferWeightGradient</c> that weight's gradient also comes back in one GEMM
/// (<see cref="DeferredWeightGradient"/>); without it autograd sees the plain recurrence, the
/// reference the deferred path must match.
/// </summary>
public abstract class Controller : Module
{
    private readonly Linear inputProjection;
    private readonly Parameter recurrent;
    private readonly bool deferWeightGradient;

    /// <param name="gates">Pre-activations per step: 4 h for an LSTM, h for a feed-forward layer.</param>
    /// <param name="recurrentInputs">The width of what the recurrent weight multiplies: r_{t-1}, and h_{t-1} for an LSTM.</param>
    protected Controller(string name, int inputs, int hiddenUnits, int gates, int recurrentInputs, bool deferWeightGradient) : base(name)
    {
        HiddenUnits = hiddenUnits;
        this.deferWeightGradient = deferWeightGradient;
        inputProjection = Linear(inputs, gates);
        // PyTorch's LSTM initialisation, for both controllers.
        var bound = 1.0 / Math.Sqrt(hiddenUnits);
        recurrent = Parameter(empty(gates, recurrentInputs));
        using (no_grad()) init.uniform_(recurrent, -bound, bound);
        RegisterComponents();
    }

    public int HiddenUnits { get; }

    public static Controller Create(ControllerKind kind, int inputs, int hiddenUnits, int readWidth, bool deferWeightGradient = true) =>
        kind.IsLstmController
            ? new LstmController(inputs, hiddenUnits, readWidth, deferWeightGradient)
            : new FeedForwardController(inputs, hiddenUnits, readWidth, deferWeightGradient);

    /// <summary>The recurrent weight and the input projection, for a fused recurrence (<see cref="Fused.LruaRecurrence"/>) that steps them itself.</summary>
    internal Tensor RecurrentWeight => recurrent;

    internal Tensor Project(Tensor input) => inputProjection.call(input);

    /// <summary>Starts an episode's recurrence over input [B, T, inputs].</summary>
    public Recurrence Start(Tensor input) => new(this, input);

    /// <summary>What the recurrent weight multiplies at a step.</summary>
    protected abstract Tensor RecurrentInput(Tensor read, Tensor hidden);

    /// <summary>From a step's pre-activations and the previous cell state, h_t and the new cell state.</summary>
    protected abstract (Tensor Hidden, Tensor Cell) Activate(Tensor gates, Tensor cell);

    /// <summary>One episode of the controller, stepped once per time step, in order.</summary>
    public sealed class Recurrence
    {
        private readonly Controller controller;
        private readonly Tensor[] projected;
        private readonly Tensor weight;
        private readonly StepInputs? log;
        private Tensor hidden, cell;
        private int t;

        internal Recurrence(Controller controller, Tensor input)
        {
            this.controller = controller;
            // [B, T, gates]: one GEMM for every step.
            var projection = controller.inputProjection.call(input);
            if (controller.deferWeightGradient)
            {
                // The recurrent weight's gradient comes back through the projection; the steps use it detached.
                log = new StepInputs(controller.recurrent.shape[1]);
                projection = DeferredWeightGradient.Apply(projection, controller.recurrent, log);
                weight = controller.recurrent.detach().t();
            }
            else
            {
                weight = controller.recurrent.t();
            }
            // One unbind, not a select per step: each select's backward would build a full [B, T, gates]
            // gradient, and autograd would add T of them up; unbind's backward stacks the steps once.
            projected = projection.unbind(1);
            hidden = zeros(input.shape[0], controller.HiddenUnits, input.dtype, input.device);
            cell = zeros(input.shape[0], controller.HiddenUnits, input.dtype, input.device);
        }

        /// <summary>h_t, from this step's projected input and r_{t-1} [B, R W].</summary>
        public Tensor Step(Tensor read)
        {
            var stepInput = controller.RecurrentInput(read, hidden);
            log?.Inputs.Add(stepInput.detach());
            (hidden, cell) = controller.Activate(addmm(projected[t++], stepInput, weight, 1, 1), cell);
            return hidden;
        }
    }
}

/// <summary>The paper's controller: an LSTM cell whose input is [x_t, y_{t-1}, r_{t-1}].</summary>
public sealed class LstmController(int inputs, int hiddenUnits, int readWidth, bool deferWeightGradient = true)
    : Controller(nameof(LstmController), inputs, hiddenUnits, 4 * hiddenUnits, readWidth + hiddenUnits, deferWeightGradient)
{
    private readonly long[] split = [3 * hiddenUnits, hiddenUnits];

    protected override Tensor RecurrentInput(Tensor read, Tensor hidden) => cat([read, hidden], 1);

    protected override (Tensor Hidden, Tensor Cell) Activate(Tensor gates, Tensor cell)
    {
        // Split, not narrow, for the same reason as unbind: one backward node, no zero-filled copies.
        var parts = gates.split(split, 1);
        var ifo = parts[0].sigmoid().chunk(3, 1);
        var g = parts[1].tanh();
        // Gate order i, f, o, g: c_t = f c_{t-1} + i g; h_t = o tanh(c_t).
        var next = addcmul(ifo[1] * cell, ifo[0], g, Scalars.One);
        return (ifo[2] * next.tanh(), next);
    }
}

/// <summary>Table 2's feed-forward controller: h_t = relu(W_x [x_t, y_{t-1}] + b + W_r r_{t-1}), no h_{t-1}.</summary>
public sealed class FeedForwardController(int inputs, int hiddenUnits, int readWidth, bool deferWeightGradient = true)
    : Controller(nameof(FeedForwardController), inputs, hiddenUnits, hiddenUnits, readWidth, deferWeightGradient)
{
    protected override Tensor RecurrentInput(Tensor read, Tensor hidden) => read;

    protected override (Tensor Hidden, Tensor Cell) Activate(Tensor gates, Tensor cell) => (functional.relu(gates), cell);
}
