/// The learning rate at each training step: a pure function of the spec and the episodes trained,
/// so a resumed run takes the same steps as one that never stopped.
module MannLab.Spec.LearningRate

open System

/// The optimiser's base rate.
let peak (t: Training) =
    match t.Optimizer with
    | RmsProp o -> o.Lr
    | Adam o -> o.Lr

/// The rate for the step that trains episodes [episode, episode + batch size): a linear warm-up
/// over the first `Warmup` episodes (the first step already moves), then the schedule over the
/// rest (cosine: the last step near 0).
let at (t: Training) (episode: int64) =
    let after = float (episode + int64 t.BatchSize) // the episodes trained once this step is done
    let warm = if t.Warmup > 0 then min 1.0 (after / float t.Warmup) else 1.0
    let shape =
        match t.Schedule with
        | Constant -> 1.0
        | Cosine ->
            let progress = (float episode - float t.Warmup) / float (t.Episodes - t.Warmup) |> max 0.0 |> min 1.0
            0.5 * (1.0 + Math.Cos(Math.PI * progress))
    peak t * warm * shape
