using MannLab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Optimizer = MannLab.Spec.Optimizer;

namespace MannLab.Training;

/// <summary>
/// The spec's optimiser over a model's parameters: TorchSharp's RMSProp and Adam with their state,
/// options and checkpoint format, but a step that passes torch no Scalar left to the finalizer
/// (see <see cref="Scalars"/>). TorchSharp's own steps turn every coefficient into one, several
/// per parameter per step. The arithmetic is theirs, operation for operation.
/// </summary>
public static class Optimizers
{
    public static optim.Optimizer Create(Optimizer optimizer, IEnumerable<Parameter> parameters) => optimizer switch
    {
        // RMSProp as in the paper: decay is the squared-gradient average's decay (PyTorch's alpha).
        Optimizer.RmsProp { rmsprop: var r } => new RmsProp(parameters, r.Lr, r.Decay, r.Momentum),
        Optimizer.Adam { adam: var a } => new AdamOptimizer(parameters, a.Lr, a.Beta1, a.Beta2),
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer)),
    };

    /// <summary>RMSProp (Hinton's, as PyTorch has it), without weight decay, centring or maximisation.</summary>
    public sealed class RmsProp(IEnumerable<Parameter> parameters, double lr, double alpha, double momentum)
        : RMSProp(parameters, lr, alpha, momentum: momentum)
    {
        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var o = group.Options;
            if (o.maximize!.Value || o.weight_decay!.Value != 0 || o.centered!.Value)
                throw new NotSupportedException("maximize, weight_decay and centered RMSProp are not used by MannLab");
            var (decay, keep, eps) = (Scalars.Of(o.alpha!.Value), Scalars.Of(1 - o.alpha.Value), Scalars.Of(o.eps!.Value));
            var (mu, lr) = (o.momentum!.Value, o.LearningRate!.Value);
            foreach (var parameter in group.Parameters)
            {
                using var grad = parameter.grad;
                if (grad is null) continue;
                var state = (State)_state[parameter.Handle];
                state.step++;
                // v = alpha v + (1 - alpha) g^2; then p -= lr g / (sqrt(v) + eps), through the momentum buffer.
                state.square_avg.mul_(decay).addcmul_(grad, grad, keep);
                using var denominator = state.square_avg.sqrt().add_(eps, Scalars.One);
                if (mu > 0)
                {
                    state.momentum_buffer.mul_(Scalars.Of(mu)).addcdiv_(grad, denominator, Scalars.One);
                    parameter.add_(state.momentum_buffer, Scalars.Of(-lr));
                }
                else parameter.addcdiv_(grad, denominator, Scalars.Of(-lr));
            }
        }, closure);
    }

    /// <summary>Adam (Kingma and Ba 2015) with bias correction, without weight decay, AMSGrad or maximisation.</summary>
    public sealed class AdamOptimizer(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2)
        : Adam(parameters, lr, beta1, beta2)
    {
        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var o = group.Options;
            if (o.maximize!.Value || o.weight_decay!.Value != 0 || o.amsgrad!.Value)
                throw new NotSupportedException("maximize, weight_decay and AMSGrad Adam are not used by MannLab");
            var (b1, b2, lr) = (o.beta1!.Value, o.beta2!.Value, o.LearningRate!.Value);
            var (scale1, keep1, scale2, keep2, eps) = (Scalars.Of(b1), Scalars.Of(1 - b1), Scalars.Of(b2), Scalars.Of(1 - b2), Scalars.Of(o.eps!.Value));
            foreach (var parameter in group.Parameters)
            {
                using var grad = parameter.grad;
                if (grad is null) continue;
                var state = (State)_state[parameter.Handle];
                state.step++;
                state.exp_avg.mul_(scale1).add_(grad, keep1);
                state.exp_avg_sq.mul_(scale2).addcmul_(grad, grad, keep2);
                // The bias corrections change every step: disposed here, not cached.
                using var correction2 = Math.Sqrt(1 - Math.Pow(b2, state.step)).ToScalar();
                using var step = (-lr / (1 - Math.Pow(b1, state.step))).ToScalar();
                using var root = state.exp_avg_sq.sqrt();
                using var denominator = root.div_(correction2).add_(eps, Scalars.One);
                parameter.addcdiv_(state.exp_avg, denominator, step);
            }
        }, closure);
    }
}
