/// The canonical form of a resolved spec: JSON with the spec language's own keys, every default
/// written out, in a fixed order. It is stored (jsonb), shown, hashed for run ids, and, being
/// YAML too, parses back into the same spec.
module MannLab.Spec.Canonical

open System.IO
open System.Security.Cryptography
open System.Text
open System.Text.Json

let private write (w: Utf8JsonWriter) (s: Spec) =
    let section (name: string) (body: unit -> unit) =
        w.WriteStartObject name
        body ()
        w.WriteEndObject()

    let str (k: string) (v: string) = w.WriteString(k, v)
    let int (k: string) (v: int) = w.WriteNumber(k, v)
    let num (k: string) (v: float) = w.WriteNumber(k, v)
    let bool (k: string) (v: bool) = w.WriteBoolean(k, v)

    w.WriteStartObject()
    str "name" s.Name
    match s.Description with
    | Some d -> str "description" d
    | None -> w.WriteNull "description"
    w.WriteStartArray "tags"
    for t in s.Tags do
        w.WriteStringValue t
    w.WriteEndArray()

    section "dataset" (fun () ->
        let d = s.Dataset
        match d.Source with
        | Omniglot path ->
            str "source" "omniglot"
            match path with
            | Some p -> str "path" p
            | None -> w.WriteNull "path"
        | Synthetic g ->
            str "source" "synthetic"
            section "synthetic" (fun () ->
                int "alphabets" g.Alphabets
                int "characters" g.CharactersPerAlphabet
                int "drawers" g.Drawers
                int "seed" g.Seed)
        int "image_size" d.ImageSize
        bool "rotation_classes" d.RotationClasses
        match d.Split with
        | Paper n ->
            str "split" "paper"
            int "train_characters" n
        | BackgroundEvaluation -> str "split" "background-evaluation"
        int "split_seed" d.SplitSeed
        section "augment" (fun () ->
            num "translate" d.Augment.Translate
            num "rotate" d.Augment.Rotate))

    section "task" (fun () ->
        int "classes" s.Task.Classes
        match s.Task.Shape with
        | InstancesPerClass k -> int "instances" k
        | Length l -> int "length" l
        str "labels" (if s.Task.Labels = OneHot then "one-hot" else "string"))

    section "model" (fun () ->
        match s.Model with
        | FeedForward h ->
            str "kind" "feedforward"
            int "hidden" h
        | Lstm h ->
            str "kind" "lstm"
            int "hidden" h
        | Mann m ->
            str "kind" "mann"
            int "hidden" m.Hidden
            str "controller" (if m.Controller = LstmController then "lstm" else "feedforward")
            section "memory" (fun () ->
                int "slots" m.Memory.Slots
                int "width" m.Memory.Width
                int "read_heads" m.Memory.ReadHeads
                bool "persistent" m.Memory.Persistent)
            match m.Access with
            | Lrua a ->
                str "access" "lrua"
                section "lrua" (fun () ->
                    num "gamma" a.Gamma
                    str "least_used" (if a.LeastUsed = Literal then "literal" else "per-head")
                    // Written only when not the paper's: these options came after runs were stored,
                    // and the paper's read and write (the defaults) must keep the ids those runs had.
                    if a.LearnedKeyStrength then str "key_strength" "learned"
                    if a.AddVector then str "write" "add-vector")
            | Ntm a ->
                str "access" "ntm"
                section "ntm" (fun () -> int "shift_range" a.ShiftRange))

    section "training" (fun () ->
        let t = s.Training
        match t.Optimizer with
        | RmsProp o ->
            str "optimizer" "rmsprop"
            num "lr" o.Lr
            num "momentum" o.Momentum
            num "decay" o.Decay
        | Adam o ->
            str "optimizer" "adam"
            num "lr" o.Lr
            num "beta1" o.Beta1
            num "beta2" o.Beta2
        int "batch_size" t.BatchSize
        int "episodes" t.Episodes
        match t.GradClip with
        | Some c -> num "grad_clip" c
        | None -> w.WriteNull "grad_clip"
        int "seed" t.Seed
        str "device" (match t.Device with Cpu -> "cpu" | Cuda -> "cuda" | Auto -> "auto")
        int "threads" t.Threads)

    section "evaluation" (fun () ->
        int "every" s.Evaluation.Every
        int "episodes" s.Evaluation.Episodes
        w.WriteStartArray "instances"
        for k in s.Evaluation.Instances do
            w.WriteNumberValue k
        w.WriteEndArray())

    section "checkpoint" (fun () -> int "every" s.CheckpointEvery)
    str "queue" (if s.Queue = CpuQueue then "cpu" else "gpu")
    str "priority" (match s.Priority with Low -> "low" | Normal -> "normal" | High -> "high")
    w.WriteEndObject()

/// Compact canonical JSON: the form that is hashed and stored.
let toJson (s: Spec) =
    use stream = new MemoryStream()
    (use w = new Utf8JsonWriter(stream)
     write w s)
    Encoding.UTF8.GetString(stream.ToArray())

let sha256 (text: string) =
    SHA256.HashData(Encoding.UTF8.GetBytes text) |> Array.map (fun b -> b.ToString "x2") |> String.concat ""

/// A run's id: the first 12 hex digits of the SHA-256 of its canonical spec. The same resolved
/// spec always gives the same id; any change to what is trained gives a new one. The fields that
/// only describe or schedule a run (description, tags, queue, priority) are left out, so raising
/// an experiment's priority or retagging it does not train it again.
let runId (s: Spec) =
    let trained = { s with Description = None; Tags = []; Queue = CpuQueue; Priority = Normal }
    (sha256 (toJson trained)).Substring(0, 12)
