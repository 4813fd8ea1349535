/// The spec language as one table. Every key is declared once here, with its type, default,
/// check, where it applies and the version of the language that added it. The decoder
/// (SpecDecoder) reads keys through these declarations, the canonical form (Canonical) is
/// written from the table, and the README's reference and `plan` are generated from it.
module MannLab.Spec.Schema

open System
open System.Globalization
open MannLab.Spec.Yaml
open MannLab.Spec.Decode

/// A value as the canonical form writes it.
type Value =
    | Int of int
    | Number of float
    | Bool of bool
    | Text of string
    | Null
    | Ints of int list
    | Texts of string list

/// A value in the spec language's own notation, as a user would write it.
let show value =
    let list items = "[" + String.concat ", " items + "]"
    match value with
    | Int i -> string i
    | Number v -> v.ToString("R", CultureInfo.InvariantCulture)
    | Bool b -> if b then "true" else "false"
    | Text t -> t
    | Null -> "null"
    | Ints items -> items |> List.map string |> list
    | Texts items -> list items

/// A rule a value must meet, with how the reference states it.
type Check<'a> = { Test: 'a -> string option; Shown: string }

let private unchecked<'a> : Check<'a> = { Test = (fun _ -> None); Shown = "" }

let inline private positive what = { Test = Decode.positive what; Shown = "> 0" }

let private atLeast low = { Test = Decode.atLeast low; Shown = sprintf ">= %O" low }

let private between low high lowOpen highOpen =
    { Test = Decode.between low high lowOpen highOpen
      Shown = sprintf "in %s%g, %g%s" (if lowOpen then "(" else "[") low high (if highOpen then ")" else "]") }

let private nonEmpty what =
    { Test = (fun (s: string) -> if s.Trim() = "" then Some(sprintf "%s must not be empty" what) else None)
      Shown = "not empty" }

/// One key, typed: how it is read, its default (None: required), its check and how it is written.
type Key<'a> =
    { Path: string
      Type: string
      Read: Decoder<'a>
      Default: 'a option
      Check: Check<'a>
      Write: 'a -> Value }

    member k.Name = k.Path.Substring(k.Path.LastIndexOf '.' + 1)

/// A required key; `defaults` gives it a default.
let private key path typ read check write =
    { Path = path; Type = typ; Read = read; Default = None; Check = check; Write = write }

let private defaults value (k: Key<'a>) = { k with Default = Some value }

let private whole path check = key path "whole number" integer check Int
let private real path check = key path "number" number check Number
let private flag path = key path "true | false" boolean unchecked Bool
let private words path (options: (string * 'a) list) =
    // The words are written back as they are read.
    let write v = options |> List.find (fun (_, o) -> o = v) |> fst |> Text
    key path (options |> List.map fst |> String.concat " | ") (choice options) unchecked write

/// A key whose null (or absence) means "none", e.g. grad_clip: null turns clipping off.
let private orNull (k: Key<'a>) : Key<'a option> =
    { Path = k.Path
      Type = k.Type + " or null"
      Read = fun ctx at node -> if isNull node then Some None else k.Read ctx at node |> Option.map Some
      Default = Some None
      Check = { Test = Option.bind k.Check.Test; Shown = k.Check.Shown }
      Write = Option.map k.Write >> Option.defaultValue Null }

/// A section of the language (a mapping of keys, e.g. model.memory); its keys' paths run through it.
type SectionName(path: string) =
    member _.Path = path
    member _.Name = path.Substring(path.LastIndexOf '.' + 1)

/// The sections, by where they stand.
module Sections =
    let dataset = SectionName "dataset"
    let synthetic = SectionName "dataset.synthetic"
    let augment = SectionName "dataset.augment"
    let task = SectionName "task"
    let curriculum = SectionName "task.curriculum"
    let regression = SectionName "task.regression"
    let model = SectionName "model"
    let memory = SectionName "model.memory"
    let autoencoder = SectionName "model.autoencoder"
    let lrua = SectionName "model.lrua"
    let ntm = SectionName "model.ntm"
    let training = SectionName "training"
    let evaluation = SectionName "evaluation"
    let checkpoint = SectionName "checkpoint"
    /// Read before the rest (Experiment): each of its keys is the path of another key.
    let sweep = SectionName "sweep"

// The keys, in the order the canonical form writes them.
let name = key "name" "text" text (nonEmpty "name") Text
let description = orNull (key "description" "text" text unchecked Text)
let tags = key "tags" "list of text" (listOf text) unchecked Texts |> defaults []

let source = words "dataset.source" [ "omniglot", true; "synthetic", false ] |> defaults true
let omniglotPath = orNull (key "dataset.path" "text" text (nonEmpty "path") Text)
let alphabets = whole "dataset.synthetic.alphabets" (positive "alphabets") |> defaults 20
let characters = whole "dataset.synthetic.characters" (positive "characters") |> defaults 20
let drawers = whole "dataset.synthetic.drawers" (positive "drawers") |> defaults 20
let glyphSeed = whole "dataset.synthetic.seed" unchecked |> defaults 0
let imageSize = whole "dataset.image_size" (positive "image_size") |> defaults 20
let rotationClasses = flag "dataset.rotation_classes" |> defaults true
let split = words "dataset.split" [ "paper", true; "background-evaluation", false ] |> defaults true
/// The paper's 1,200 of Omniglot's 1,623; its range depends on the dataset (SpecDecoder checks it).
let trainCharacters = whole "dataset.train_characters" unchecked |> defaults 1200
let splitSeed = whole "dataset.split_seed" unchecked |> defaults 0
let translate = real "dataset.augment.translate" (atLeast 0.0) |> defaults 1.0
let rotate = real "dataset.augment.rotate" (between 0.0 180.0 false false) |> defaults 5.0

/// Its range depends on the label encoding (SpecDecoder checks it).
let classes = whole "task.classes" unchecked |> defaults 5
/// At most the drawings of a character (SpecDecoder checks it).
let instances = whole "task.instances" unchecked |> defaults 10
/// No default: without it, an episode shows each class `instances` times.
let length = whole "task.length" (positive "length")
/// No default: the third way to shape an episode, its length following its classes.
let lengthPerClass = whole "task.length_per_class" (positive "length_per_class")
let labels = words "task.labels" [ "one-hot", OneHot; "string", StringLabels ] |> defaults OneHot
/// At least 2 and at most task.classes (SpecDecoder checks it).
let curriculumStart = whole "task.curriculum.start" unchecked
/// The paper's: one more class every 10,000 episodes.
let curriculumAdd = whole "task.curriculum.add" (positive "add") |> defaults 1
let curriculumEvery = whole "task.curriculum.every" (positive "every") |> defaults 10_000

/// MannLab's defaults for the GP prior: the paper states its setting only qualitatively.
let taskKind = words "task.kind" [ "classification", true; "regression", false ] |> defaults true
let private oneToThree =
    { Test = (fun d -> if d >= 1 && d <= 3 then None else Some(sprintf "must be 1, 2 or 3, got %d" d))
      Shown = "1, 2 or 3" }
let dimensions = whole "task.regression.dimensions" oneToThree |> defaults 1
let points = whole "task.regression.points" (positive "points") |> defaults 50
let inputLow = real "task.regression.x_low" unchecked |> defaults -1.0
/// Above x_low (SpecDecoder checks it).
let inputHigh = real "task.regression.x_high" unchecked |> defaults 1.0
let lengthScale = real "task.regression.length_scale" (positive "length_scale") |> defaults 0.5
let signalVariance = real "task.regression.signal_variance" (positive "signal_variance") |> defaults 1.0
let noiseVariance = real "task.regression.noise_variance" (positive "noise_variance") |> defaults 0.01

let kind = words "model.kind" [ "feedforward", "feedforward"; "lstm", "lstm"; "mann", "mann"; "knn", "knn" ]
let hidden = whole "model.hidden" (positive "hidden") |> defaults 200
/// The kNN's space: raw pixels, or an autoencoder's code.
let features = words "model.features" [ "raw", false; "autoencoder", true ] |> defaults false
/// The transcription's "200-unit layers, 32-unit bottleneck".
let autoencoderHidden = whole "model.autoencoder.hidden" (positive "hidden") |> defaults 200
let code = whole "model.autoencoder.code" (positive "code") |> defaults 32
let controller = words "model.controller" [ "lstm", LstmController; "feedforward", FeedForwardController ] |> defaults LstmController
let slots = whole "model.memory.slots" (positive "slots") |> defaults 128
let width = whole "model.memory.width" (positive "width") |> defaults 40
/// At most the slots (SpecDecoder checks it).
let readHeads = whole "model.memory.read_heads" (positive "read_heads") |> defaults 4
let persistent = flag "model.memory.persistent" |> defaults false
let access = words "model.access" [ "lrua", true; "ntm", false ] |> defaults true
let gamma = real "model.lrua.gamma" (between 0.0 1.0 true false) |> defaults 0.95
let leastUsed = words "model.lrua.least_used" [ "literal", Literal; "per-head", PerHead ] |> defaults Literal
let keyStrength = words "model.lrua.key_strength" [ "none", false; "learned", true ] |> defaults false
let addVector = words "model.lrua.write" [ "key", false; "add-vector", true ] |> defaults false
let shiftRange = whole "model.ntm.shift_range" (atLeast 0) |> defaults 1

let optimizer = words "training.optimizer" [ "rmsprop", false; "adam", true ] |> defaults false
/// RMSProp's default; Adam's is adamLr.
let lr = real "training.lr" (positive "lr") |> defaults 1e-4
let adamLr = 1e-3
let private fraction = between 0.0 1.0 false true
let momentum = real "training.momentum" fraction |> defaults 0.9
let decay = real "training.decay" (between 0.0 1.0 true true) |> defaults 0.95
let beta1 = real "training.beta1" fraction |> defaults 0.9
let beta2 = real "training.beta2" fraction |> defaults 0.999
let schedule = words "training.schedule" [ "constant", Constant; "cosine", Cosine ] |> defaults Constant
/// Fewer than the episodes (SpecDecoder checks it).
let warmup = whole "training.warmup" (atLeast 0) |> defaults 0
let batchSize = whole "training.batch_size" (positive "batch_size") |> defaults 16
let episodes = whole "training.episodes" (positive "episodes") |> defaults 100_000
let gradClip = orNull (real "training.grad_clip" (positive "grad_clip")) |> defaults (Some 10.0)
let seed = whole "training.seed" unchecked |> defaults 0
let device = words "training.device" [ "cpu", Cpu; "cuda", Cuda; "auto", Auto ] |> defaults Cpu
let threads = whole "training.threads" (positive "threads") |> defaults 1

let evaluateEvery = whole "evaluation.every" (positive "every") |> defaults 2000
let evaluationEpisodes = whole "evaluation.episodes" (positive "episodes") |> defaults 256
/// Those of the default that an episode can hold; each is checked against the task (SpecDecoder).
let evaluationInstances = key "evaluation.instances" "list of whole numbers" (listOf integer) unchecked Ints |> defaults [ 1; 2; 3; 4; 5; 10 ]
/// Each checked against the labels and the task's shape (SpecDecoder).
let evaluationClasses = key "evaluation.classes" "list of whole numbers" (listOf integer) unchecked Ints |> defaults []
let checkpointEvery = whole "checkpoint.every" (positive "every") |> defaults 5000
/// Cpu unless training.device is cuda (SpecDecoder decides).
let queue = words "queue" [ "cpu", CpuQueue; "gpu", GpuQueue ] |> defaults CpuQueue
let priority = words "priority" [ "low", Low; "normal", Normal; "high", High ] |> defaults Normal

/// One row of the table: a key as the reference shows it and the canonical form writes it.
type Field =
    { Path: string
      Type: string
      /// As the reference shows it: the default, or what decides it.
      Default: string
      Check: string
      /// When the key applies; "" for always.
      Applies: string
      /// The version of the language that added the key (see `written`).
      Since: int
      /// Whether the key changes what is trained, and so the run id (see `written`).
      Trained: bool
      What: string
      /// The key's value in a resolved spec; None where it does not apply.
      Of: Spec -> Value option
      /// The key's own default, where no other key decides it; None for a required key.
      Plain: Value option
      /// It applies only where a feature added after version 1 is used (see `written`).
      OfLaterFeature: bool }

let private field (k: Key<'a>) (get: Spec -> 'a option) applies what =
    let plain = k.Default |> Option.map k.Write
    { Path = k.Path
      Type = k.Type
      Default = plain |> Option.map show |> Option.defaultValue "required"
      Check = k.Check.Shown
      Applies = applies
      Since = 1
      Trained = true
      What = what
      Of = get >> Option.map k.Write
      Plain = plain
      OfLaterFeature = false }

let private always (get: Spec -> 'a) = get >> Some

let private omniglot (s: Spec) = match s.Dataset.Source with Omniglot p -> Some p | Synthetic _ -> None
let private synthetic (s: Spec) = match s.Dataset.Source with Synthetic g -> Some g | Omniglot _ -> None
let private paperSplit (s: Spec) = match s.Dataset.Split with Paper n -> Some n | BackgroundEvaluation -> None
let private mann (s: Spec) = match s.Model with Mann m -> Some m | FeedForward _ | Lstm _ | Knn _ -> None
/// A classification's value: a regression reads no dataset, classes, labels or sights.
let private classifying (get: Spec -> 'a option) (s: Spec) = if s.Task.Kind = Classification then get s else None
let private curriculum = classifying (fun s -> s.Task.Curriculum)
let private regression (s: Spec) = s.Task.Regression
let private knn (s: Spec) = match s.Model with Knn f -> Some f | FeedForward _ | Lstm _ | Mann _ -> None
let private autoencoder = knn >> Option.bind (function Autoencoder a -> Some a | RawPixels -> None)

/// A model's kind as the spec names it (model.kind).
let kindOf model =
    match model with
    | FeedForward _ -> "feedforward"
    | Lstm _ -> "lstm"
    | Mann _ -> "mann"
    | Knn _ -> "knn"
let private lrua = mann >> Option.bind (fun m -> match m.Access with Lrua a -> Some a | Ntm _ -> None)
let private ntm = mann >> Option.bind (fun m -> match m.Access with Ntm a -> Some a | Lrua _ -> None)
let private rmsprop (s: Spec) = match s.Training.Optimizer with RmsProp o -> Some o | Adam _ -> None
let private adam (s: Spec) = match s.Training.Optimizer with Adam o -> Some o | RmsProp _ -> None

/// Run-id stability, stated once. A run's id hashes its canonical form (Canonical.runId), and
/// runs already stored must be found again under their ids, not trained again. Two rules:
/// - Keys that only describe or schedule a run (Trained = false: description, tags, queue,
///   priority) are hashed at their own defaults, whatever the spec says, so retagging or
///   reprioritising an experiment does not train it again.
/// - Each key records the version of the language that added it (Since). A key added after
///   version 1 is written only when it differs from its default, so a spec that does not use it
///   keeps the form, and the id, it had before the key existed. A new key must therefore default
///   to what MannLab did before it (old runs then mean what they meant), with a default of its
///   own (`Plain`; `since` refuses a key without one). Keys of version 1 are always written,
///   every default included.
///   A key that applies only where a later feature is used (task.curriculum.*) is written
///   whenever it applies: no earlier spec used that feature, so no earlier id can change (`new`).
let written (f: Field) (v: Value) = f.Since = 1 || f.OfLaterFeature || Some v <> f.Plain

let private since v (f: Field) =
    if f.Plain.IsNone then invalidArg (nameof f) (sprintf "%s: a key added later needs a default of its own" f.Path)
    { f with Since = v }

/// A key that applies only where a feature added in version v is used: written whenever it applies.
let private inFeatureOf v (f: Field) = { f with Since = v; OfLaterFeature = true }

let private untrained (f: Field) = { f with Trained = false }
let private shown dflt (f: Field) = { f with Default = dflt }
let private checkedAs check (f: Field) = { f with Check = check }

let private isMann = "model.kind: mann"
let private isCurriculum = "task.curriculum given"
let private isClassification = "task.kind: classification"
let private isRegression = "task.kind: regression"
let private isAutoencoder = "model.kind: knn, model.features: autoencoder"
let private isLrua = "model.kind: mann, model.access: lrua"
let private isRmsProp = "training.optimizer: rmsprop"
let private isAdam = "training.optimizer: adam"

/// The table, in the order the canonical form writes it (each section's keys together).
let fields: Field list =
    [ field name (always _.Name) "" "the experiment's name"
      field description (always _.Description) "" "" |> untrained
      field tags (always _.Tags) "" "" |> untrained
      field source (classifying <| always (fun s -> omniglot s |> Option.isSome)) isClassification ""
      field omniglotPath (classifying omniglot) "dataset.source: omniglot" "a folder or the archives; null: $MANNLAB_OMNIGLOT, else the data folder"
      field alphabets (classifying (synthetic >> Option.map _.Alphabets)) "dataset.source: synthetic" ""
      field characters (classifying (synthetic >> Option.map _.CharactersPerAlphabet)) "dataset.source: synthetic" "per alphabet"
      field drawers (classifying (synthetic >> Option.map _.Drawers)) "dataset.source: synthetic" "drawings of each character"
      field glyphSeed (classifying (synthetic >> Option.map _.Seed)) "dataset.source: synthetic" ""
      field imageSize (classifying <| always _.Dataset.ImageSize) isClassification "images are downscaled to image_size x image_size"
      field rotationClasses (classifying <| always _.Dataset.RotationClasses) isClassification "90/180/270-degree rotations of a character are new classes"
      field split (classifying <| always (fun s -> paperSplit s |> Option.isSome)) isClassification
          "paper: random characters; background-evaluation: the authors' alphabet-disjoint split"
      field trainCharacters (classifying paperSplit) "dataset.split: paper" ""
      |> shown "1200 (synthetic: three quarters of its characters)"
      |> checkedAs "1 to the dataset's characters - 1"
      field splitSeed (classifying <| always _.Dataset.SplitSeed) isClassification ""
      field translate (classifying <| always _.Dataset.Augment.Translate) isClassification "per-sample shift, up to this many pixels"
      field rotate (classifying <| always _.Dataset.Augment.Rotate) isClassification "per-sample rotation, up to this many degrees"
      field taskKind (always (fun s -> s.Task.Kind = Classification)) "" "regression: a function from a Gaussian-process prior per episode"
      |> since 5
      field classes (classifying <| always _.Task.Classes) isClassification "classes per episode; with a curriculum, the most it grows to, and the held-out evaluations' classes"
      |> checkedAs ">= 2; string labels: at most 3125"
      field instances (classifying <| fun s -> match s.Task.Shape with InstancesPerClass k -> Some k | Length _ | LengthPerClass _ -> None)
          "task.length, task.length_per_class not given" "instances per class" |> checkedAs "> 0, at most the drawings of a character"
      field length (classifying <| fun s -> match s.Task.Shape with Length l -> Some l | InstancesPerClass _ | LengthPerClass _ -> None)
          "task.instances, task.length_per_class not given" "steps per episode, each step's class drawn uniformly"
      |> shown "none: instances per class instead"
      field lengthPerClass (classifying <| fun s -> match s.Task.Shape with LengthPerClass l -> Some l | InstancesPerClass _ | Length _ -> None)
          "task.instances, task.length not given" "steps per episode per class (the curriculum's 10), each step's class drawn uniformly"
      |> shown "none: instances per class instead"
      |> inFeatureOf 4
      field labels (classifying <| always _.Task.Labels) isClassification "string: five characters over five symbols"
      field curriculumStart (curriculum >> Option.map _.Start) isCurriculum "classes of the first episodes"
      |> checkedAs "from 2 to task.classes"
      |> inFeatureOf 4
      field curriculumAdd (curriculum >> Option.map _.Add) isCurriculum "classes added at each step of the schedule, up to task.classes"
      |> inFeatureOf 4
      field curriculumEvery (curriculum >> Option.map _.Every) isCurriculum "episodes between steps of the schedule"
      |> inFeatureOf 4
      field dimensions (regression >> Option.map _.Dimensions) isRegression "of the inputs x" |> inFeatureOf 5
      field points (regression >> Option.map _.Points) isRegression "steps per episode: (x, y) pairs of one function" |> inFeatureOf 5
      field inputLow (regression >> Option.map _.InputLow) isRegression "each coordinate of x is drawn uniformly from [x_low, x_high]"
      |> inFeatureOf 5
      field inputHigh (regression >> Option.map _.InputHigh) isRegression "" |> checkedAs "> x_low" |> inFeatureOf 5
      field lengthScale (regression >> Option.map _.LengthScale) isRegression "the RBF kernel's" |> inFeatureOf 5
      field signalVariance (regression >> Option.map _.SignalVariance) isRegression "the RBF kernel's, the prior variance of f(x)"
      |> inFeatureOf 5
      field noiseVariance (regression >> Option.map _.NoiseVariance) isRegression "of the noise on each y = f(x) + noise" |> inFeatureOf 5
      field kind (always (fun s -> kindOf s.Model)) "" "knn: the nearest earlier image's label, no controller"
      field hidden
          (fun s ->
              match s.Model with
              | FeedForward h
              | Lstm h -> Some h
              | Mann m -> Some m.Hidden
              | Knn _ -> None)
          "model.kind: feedforward | lstm | mann" "controller units"
      field features (knn >> Option.map (function Autoencoder _ -> true | RawPixels -> false)) "model.kind: knn"
          "raw: Euclidean distance between pixels; autoencoder: between the codes of an autoencoder trained on the training classes"
      |> since 3
      field autoencoderHidden (autoencoder >> Option.map _.Hidden) isAutoencoder "units of each of its two layers either side of the code"
      |> since 3
      field code (autoencoder >> Option.map _.Code) isAutoencoder "units of its bottleneck" |> since 3
      field controller (mann >> Option.map _.Controller) isMann ""
      field slots (mann >> Option.map _.Memory.Slots) isMann ""
      field width (mann >> Option.map _.Memory.Width) isMann ""
      field readHeads (mann >> Option.map _.Memory.ReadHeads) isMann "" |> checkedAs "> 0, at most slots"
      field persistent (mann >> Option.map _.Memory.Persistent) isMann "keep memory across episodes instead of wiping it"
      field access (mann >> Option.map (fun m -> match m.Access with Lrua _ -> true | Ntm _ -> false)) isMann ""
      field gamma (lrua >> Option.map _.Gamma) isLrua "usage decay"
      field leastUsed (lrua >> Option.map _.LeastUsed) isLrua
          "literal: the paper's rule, every slot tied at the n-th smallest usage; per-head: head h writes the h-th least used"
      field keyStrength (lrua >> Option.map _.LearnedKeyStrength) isLrua
          "none: the paper's read; learned: beta_t >= 1 per head sharpens the read" |> since 2
      field addVector (lrua >> Option.map _.AddVector) isLrua
          "key: the paper's eq. 8 writes k_t; add-vector: a separate a_t per head" |> since 2
      field shiftRange (ntm >> Option.map _.ShiftRange) "model.kind: mann, model.access: ntm" ""
      field optimizer (always (fun s -> adam s |> Option.isSome)) "" ""
      field lr (always (fun s -> LearningRate.peak s.Training)) "" ""
      |> shown (sprintf "%s (adam: %s)" (show (Number lr.Default.Value)) (show (Number adamLr)))
      field momentum (rmsprop >> Option.map _.Momentum) isRmsProp ""
      field decay (rmsprop >> Option.map _.Decay) isRmsProp ""
      field beta1 (adam >> Option.map _.Beta1) isAdam ""
      field beta2 (adam >> Option.map _.Beta2) isAdam ""
      field schedule (always _.Training.Schedule) "" "constant: the optimiser's rate; cosine: down to 0 at the last episode" |> since 2
      field warmup (always _.Training.Warmup) "" "episodes over which the rate rises linearly from 0" |> since 2
      |> checkedAs ">= 0, fewer than the episodes"
      field batchSize (always _.Training.BatchSize) "" "episodes per training step"
      field episodes (always _.Training.Episodes) "" ""
      field gradClip (always _.Training.GradClip) "" "global gradient norm; null turns clipping off"
      field seed (always _.Training.Seed) "" ""
      field device (always _.Training.Device) "" ""
      field threads (always _.Training.Threads) "" "torch threads per training process"
      field evaluateEvery (always _.Evaluation.Every) "" "episodes between evaluations"
      field evaluationEpisodes (always _.Evaluation.Episodes) "" "held-out episodes per evaluation"
      field evaluationInstances (classifying <| always _.Evaluation.Instances) isClassification "the sights to report accuracy at"
      |> shown "[1, 2, 3, 4, 5, 10], up to the instances per class"
      |> checkedAs "each from 1 to the instances per class, none twice"
      field evaluationClasses (classifying <| always _.Evaluation.Classes) isClassification
          "class counts to evaluate the trained model at too, each with episodes of the task's shape, after training"
      |> checkedAs "each >= 2, none twice; one-hot: at most task.classes; needs task.instances or task.length_per_class"
      |> since 4
      field checkpointEvery (always _.CheckpointEvery) "" "episodes between checkpoints"
      field queue (always _.Queue) "" "" |> untrained |> shown "cpu (gpu when training.device is cuda)"
      field priority (always _.Priority) "" "" |> untrained ]

/// The README's reference to the language: the table in Markdown, one row per key.
let reference =
    let cell (text: string) = text.Replace("|", "\\|")
    [ yield "| key | type | default | check | applies when | since | in the run id | what |"
      yield "|---|---|---|---|---|---|---|---|"
      for f in fields ->
          sprintf "| `%s` | %s | %s | %s | %s | %d | %s | %s |" f.Path (cell f.Type) (cell f.Default) (cell f.Check) (cell f.Applies)
              f.Since (if f.Trained then "yes" else "no") (cell f.What) ]
    |> String.concat "\n"

/// A model in a few words, for `plan` and titles: "mann (lstm 200, 128x40, 4 heads, lrua gamma 0.95)".
let describeModel model =
    match model with
    | FeedForward h -> sprintf "feedforward %d" h
    | Lstm h -> sprintf "lstm %d" h
    | Mann m ->
        let access =
            match m.Access with
            | Lrua a ->
                sprintf "lrua gamma %s" (show (Number a.Gamma))
                + (if a.LeastUsed = PerHead then ", per-head" else "")
                + (if a.LearnedKeyStrength then ", key strength" else "")
                + (if a.AddVector then ", add vector" else "")
            | Ntm _ -> "ntm"
        sprintf "mann (%s %d, %dx%d, %d heads, %s)" (show (controller.Write m.Controller)) m.Hidden m.Memory.Slots m.Memory.Width
            m.Memory.ReadHeads access
    | Knn RawPixels -> "knn (raw pixels)"
    | Knn(Autoencoder a) -> sprintf "knn (autoencoder %d-%d-%d)" a.Hidden a.Hidden a.Code

/// A task in a few words: "5-way, 10 per class, one-hot".
let describeTask (t: Task) =
    match t.Kind with
    | Regression gp ->
        sprintf "GP regression, %d-D, %d points, length scale %s, noise variance %s" gp.Dimensions gp.Points
            (show (Number gp.LengthScale)) (show (Number gp.NoiseVariance))
    | Classification ->
        let shape =
            match t.Shape with
            | InstancesPerClass k -> sprintf "%d per class" k
            | Length l -> sprintf "length %d" l
            | LengthPerClass l -> sprintf "length %d per class" l
        let ways =
            match t.Curriculum with
            | None -> sprintf "%d-way" t.Classes
            | Some c -> sprintf "%d- to %d-way (+%d every %d episodes)" c.Start t.Classes c.Add c.Every
        sprintf "%s, %s, %s" ways shape (match t.Labels with OneHot -> "one-hot" | StringLabels -> "string labels")

/// A column of `plan`, after the run and its sweep point: a heading and what it shows of a run.
type Column = { Heading: string; Show: Spec -> string }

/// `plan`'s columns: the model and task in a few words, then keys of the table by their last name.
let planColumns =
    let ofKey (k: Key<'a>) =
        let field = fields |> List.find (fun f -> f.Path = k.Path)
        { Heading = k.Name; Show = fun s -> field.Of s |> Option.map show |> Option.defaultValue "" }
    [ { Heading = "architecture"; Show = fun s -> describeModel s.Model }
      { Heading = "task"; Show = fun s -> describeTask s.Task }
      // What the run trains: none for a model with nothing to learn, whatever training.episodes says.
      { Heading = episodes.Name; Show = fun s -> string s.EpisodesToTrain }
      ofKey seed ]
