/// The experiment-spec domain: what a MannLab run is, in the paper's terms (Santoro et al. 2016).
namespace MannLab.Spec

/// Procedurally drawn glyphs for tests, the quickstart and users without Omniglot.
type SyntheticGlyphs =
    { Alphabets: int
      CharactersPerAlphabet: int
      Drawers: int
      Seed: int }

type DatasetSource =
    /// Path None: $MANNLAB_OMNIGLOT, else the default data folder.
    | Omniglot of path: string option
    | Synthetic of glyphs: SyntheticGlyphs

type ClassSplit =
    /// The paper's split: this many characters, drawn at random by the split seed, train; the rest test.
    | Paper of trainCharacters: int
    /// The authors' alphabet-disjoint split (background alphabets train, evaluation alphabets test).
    | BackgroundEvaluation

/// Per-sample jitter: translation up to Translate pixels (at the output size), rotation up to Rotate degrees.
type Augmentation = { Translate: float; Rotate: float }

type Dataset =
    { Source: DatasetSource
      ImageSize: int
      /// 90, 180 and 270 degree rotations of each character as new classes (4x the classes).
      RotationClasses: bool
      Split: ClassSplit
      SplitSeed: int
      Augment: Augmentation }

type EpisodeShape =
    /// Every class of the episode appears exactly this many times.
    | InstancesPerClass of instances: int
    /// An episode of this many steps, each step's class drawn uniformly from the episode's classes.
    | Length of steps: int
    /// An episode of this many steps per class (the paper's curriculum: 10x the classes), each
    /// step's class drawn uniformly: the length follows the classes.
    | LengthPerClass of stepsPerClass: int

type LabelEncoding =
    | OneHot
    /// Five characters over five symbols, five concatenated one-hots (the paper's Table 2).
    | StringLabels

/// The paper's curriculum (section 4.1): episodes start with Start classes, and every Every
/// episodes Add more, up to the task's classes.
type Curriculum = { Start: int; Add: int; Every: int }

/// The paper's regression: each episode is a fresh function f drawn from a Gaussian-
/// process prior with an RBF kernel k(x, x') = SignalVariance exp(-|x - x'|^2 / (2 LengthScale^2)),
/// observed at Points inputs drawn uniformly from [InputLow, InputHigh]^Dimensions, as
/// y = f(x) + noise of variance NoiseVariance.
type GpRegression =
    { Dimensions: int
      Points: int
      InputLow: float
      InputHigh: float
      LengthScale: float
      SignalVariance: float
      NoiseVariance: float }

type TaskKind =
    /// The one-shot task: images to be given the label their class had earlier in the episode.
    | Classification
    /// At step t the model sees [x_t, y_{t-1}] and predicts a Gaussian over y_t.
    | Regression of gp: GpRegression

type Task =
    { /// Classes per episode; with a curriculum, the most it grows to (and what one-hot labels encode).
      Classes: int
      Shape: EpisodeShape
      Labels: LabelEncoding
      Curriculum: Curriculum option
      /// For a regression, the classification fields above stay at their defaults and apply to nothing.
      Kind: TaskKind }

    /// The task's regression, if it is one.
    member t.Regression =
        match t.Kind with
        | Regression gp -> Some gp
        | Classification -> None

    /// Steps in an episode of the task's classes (a regression's: its points).
    member t.EpisodeLength =
        match t.Kind with
        | Regression gp -> gp.Points
        | Classification -> t.LengthFor t.Classes

    /// Steps in an episode of this many classes.
    member t.LengthFor(classes: int) =
        match t.Shape with
        | InstancesPerClass k -> classes * k
        | Length l -> l
        | LengthPerClass l -> classes * l

    /// The highest instance index an episode of the task's classes can hold.
    member t.MaxInstance =
        match t.Shape with
        | InstancesPerClass k -> k
        | Length l -> l
        | LengthPerClass l -> l * t.Classes

    /// Whether an episode's length follows its classes, so the task can be posed with other classes.
    member t.ScalesWithClasses =
        match t.Shape with
        | InstancesPerClass _
        | LengthPerClass _ -> true
        | Length _ -> false

    /// The classes of training episode e: the task's, or the curriculum's at e. A batch takes those
    /// of its first episode.
    member t.ClassesAt(episode: int64) =
        match t.Curriculum with
        | None -> t.Classes
        | Some c -> int (min (int64 t.Classes) (int64 c.Start + int64 c.Add * (episode / int64 c.Every)))


type LeastUsedRule =
    /// w^lu(i) = 1 where usage <= the n-th smallest usage: every tied slot is written.
    | Literal
    /// Head h writes to the h-th least-used slot, ties broken by slot index.
    | PerHead

type LruaAccess =
    { Gamma: float
      LeastUsed: LeastUsedRule
      /// The paper's read (eq. 3) has no key strength. When true, each head also emits beta_t >= 1
      /// that sharpens its read softmax, as the NTM's content addressing does: MannLab's extension.
      LearnedKeyStrength: bool
      /// The paper writes the read key k_t (eq. 8). When true, each head emits a separate add
      /// vector a_t to write, as most reimplementations do: MannLab's extension.
      AddVector: bool }
type NtmAccess = { ShiftRange: int }

type Access =
    | Lrua of lrua: LruaAccess
    | Ntm of ntm: NtmAccess

type Memory =
    { Slots: int
      Width: int
      ReadHeads: int
      /// Keep the memory across episodes instead of wiping it at each episode's start.
      Persistent: bool }

type ControllerKind =
    | LstmController
    | FeedForwardController

type MannModel =
    { Controller: ControllerKind
      Hidden: int
      Memory: Memory
      Access: Access }

/// The space the nearest-neighbour rule compares images in.
type KnnFeatures =
    /// The pixels themselves: nothing to train.
    | RawPixels
    /// The code of an autoencoder trained to reconstruct the training classes' images: layers of
    /// Hidden units on either side of a Code-unit bottleneck (the paper's "deep features").
    | Autoencoder of autoencoder: AutoencoderFeatures

and AutoencoderFeatures = { Hidden: int; Code: int }

type Model =
    | FeedForward of hidden: int
    | Lstm of hidden: int
    | Mann of mann: MannModel
    /// The paper's Table 2 baselines: each image takes the label of its nearest earlier image of the episode.
    | Knn of features: KnnFeatures

    /// Whether the model has anything to learn: a nearest-neighbour rule on raw pixels has not,
    /// so its run is evaluated without training.
    member m.Learns =
        match m with
        | Knn RawPixels -> false
        | FeedForward _ | Lstm _ | Mann _ | Knn(Autoencoder _) -> true

type RmsPropSettings = { Lr: float; Momentum: float; Decay: float }
type AdamSettings = { Lr: float; Beta1: float; Beta2: float }

type Optimizer =
    | RmsProp of rmsprop: RmsPropSettings
    | Adam of adam: AdamSettings

type Device =
    | Cpu
    | Cuda
    | Auto

/// How the learning rate moves over a run, after any warm-up.
type Schedule =
    /// The paper's: the optimiser's rate throughout.
    | Constant
    /// Half a cosine from the rate down to 0 at the last episode (Loshchilov and Hutter 2017, without restarts).
    | Cosine

type Training =
    { Optimizer: Optimizer
      Schedule: Schedule
      /// Episodes over which the rate rises linearly from 0 to the optimiser's; 0 for none.
      Warmup: int
      BatchSize: int
      Episodes: int
      /// Global gradient-norm clip; None turns clipping off.
      GradClip: float option
      Seed: int
      Device: Device
      Threads: int }

type Evaluation =
    { Every: int
      Episodes: int
      Instances: int list
      /// Class counts the trained model is also evaluated at, after training (besides the task's).
      Classes: int list }

type Queue =
    | CpuQueue
    | GpuQueue

type Priority =
    | Low
    | Normal
    | High

/// A resolved spec: every default filled in. This is what is stored, shown and hashed.
type Spec =
    { Name: string
      Description: string option
      Tags: string list
      Dataset: Dataset
      Task: Task
      Model: Model
      Training: Training
      Evaluation: Evaluation
      CheckpointEvery: int
      Queue: Queue
      Priority: Priority }

    /// Steps in one episode.
    member s.EpisodeLength = s.Task.EpisodeLength

    /// The episodes the run trains on: training.episodes, or none for a model with nothing to learn.
    member s.EpisodesToTrain = if s.Model.Learns then s.Training.Episodes else 0

type Position = { Line: int; Column: int }

/// One problem in a spec file, reported compiler-style.
type SpecError =
    { File: string
      Position: Position
      /// The field path, e.g. model.lrua.gamma ("" for the whole file).
      Path: string
      Message: string }

    override e.ToString() =
        let where = if e.Path = "" then "" else e.Path + ": "
        sprintf "%s:%d:%d: error: %s%s" e.File e.Position.Line e.Position.Column where e.Message
