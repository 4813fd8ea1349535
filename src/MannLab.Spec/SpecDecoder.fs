/// Decoding a spec document: the keys of the language (Schema) read section by section, with the
/// rules that involve several keys (what applies where, defaults and ranges that depend on others).
module MannLab.Spec.SpecDecoder

open MannLab.Spec.Yaml
open MannLab.Spec.Decode

/// Omniglot's full set: 1,623 characters by 20 drawers.
let omniglotCharacters = 1623
let omniglotDrawers = 20
/// Five characters over five symbols.
let stringLabelCapacity = pown 5 5

/// A key's name in its section; a key read in a section it does not belong to is a bug here.
let private nameIn (s: Section) (k: Schema.Key<'a>) =
    if childPath s.Path k.Name <> k.Path then invalidOp (sprintf "%s is read in the section '%s'" k.Path s.Path)
    k.Name

/// A key with its own default and check: the default when absent or unusable.
let private get (s: Section) (k: Schema.Key<'a>) =
    match k.Default with
    | Some dflt -> s.Get(nameIn s k, k.Read, dflt, k.Check.Test)
    | None -> invalidOp (sprintf "%s is required: it has no default" k.Path)

/// A key whose default or check depends on other keys.
let private getOr (s: Section) (k: Schema.Key<'a>) dflt check = s.Get(nameIn s k, k.Read, dflt, check)

let private required (s: Section) (k: Schema.Key<'a>) = s.Required(nameIn s k, k.Read, k.Check.Test)

let private dataset (s: Section) =
    let source = get s Schema.source
    let synthetic = s.Section("synthetic")

    let glyphs =
        { Alphabets = get synthetic Schema.alphabets
          CharactersPerAlphabet = get synthetic Schema.characters
          Drawers = get synthetic Schema.drawers
          Seed = get synthetic Schema.glyphSeed }

    synthetic.Finish()

    let sourceValue, characters =
        if source then
            s.NotApplicable("synthetic", "'synthetic' settings apply to source: synthetic only")
            Omniglot(get s Schema.omniglotPath), omniglotCharacters
        else
            s.NotApplicable(Schema.omniglotPath.Name, "'path' applies to source: omniglot only (synthetic glyphs are generated)")
            Synthetic glyphs, glyphs.Alphabets * glyphs.CharactersPerAlphabet

    let split = get s Schema.split

    let splitValue =
        if split then
            let dflt = if source then Schema.trainCharacters.Default.Value else characters * 3 / 4
            let check n =
                if n > 0 && n < characters then None
                else Some(sprintf "must be between 1 and %d (the dataset has %d characters), got %d" (characters - 1) characters n)
            Paper(getOr s Schema.trainCharacters dflt check)
        else
            s.NotApplicable(Schema.trainCharacters.Name, "'train_characters' applies to split: paper only")
            BackgroundEvaluation

    let augment = s.Section("augment")

    let augmentation =
        { Translate = get augment Schema.translate
          Rotate = get augment Schema.rotate }

    augment.Finish()

    let imageSize = get s Schema.imageSize

    let result =
        { Source = sourceValue
          ImageSize = imageSize
          RotationClasses = get s Schema.rotationClasses
          Split = splitValue
          SplitSeed = get s Schema.splitSeed
          Augment = augmentation }

    s.Finish()
    result, (if source then omniglotDrawers else glyphs.Drawers)

let private task (s: Section) (drawers: int) =
    let labels = get s Schema.labels

    let classesCheck n =
        match positive "classes" n with
        | Some m -> Some m
        | None when labels = StringLabels && n > stringLabelCapacity ->
            Some(sprintf "string labels can name at most %d classes, got %d" stringLabelCapacity n)
        | None when n < 2 -> Some "an episode needs at least 2 classes"
        | None -> None

    let classes = getOr s Schema.classes Schema.classes.Default.Value classesCheck

    let shape =
        if s.Has "length" && s.Has "instances" then
            s.Ctx.Report(s.PositionOf "length", childPath s.Path "length", "give either 'instances' (per class) or 'length' (steps per episode), not both")
            s.Skip "instances"
            s.Skip "length"
            InstancesPerClass Schema.instances.Default.Value
        elif s.Has "length" then
            // An unusable length (reported) stands for the paper's episode length, for the checks after it.
            let paperLength = Schema.classes.Default.Value * Schema.instances.Default.Value
            Length(getOr s Schema.length paperLength Schema.length.Check.Test)
        else
            let check k =
                match positive "instances" k with
                | Some m -> Some m
                | None when k > drawers ->
                    Some(sprintf "the dataset has %d drawings of each character, so at most %d instances per class" drawers drawers)
                | None -> None
            InstancesPerClass(getOr s Schema.instances Schema.instances.Default.Value check)

    s.Finish()
    { Classes = classes; Shape = shape; Labels = labels }

let private model (s: Section) =
    let kind = required s Schema.kind
    let hidden = get s Schema.hidden
    let mannOnly key = sprintf "'%s' applies to kind: mann only" key

    let result =
        match kind with
        | Some "mann" ->
            let memory = s.Section("memory")

            let mem =
                { Slots = get memory Schema.slots
                  Width = get memory Schema.width
                  ReadHeads = get memory Schema.readHeads
                  Persistent = get memory Schema.persistent }

            memory.Finish()

            if mem.ReadHeads > mem.Slots then
                s.Ctx.Report(memory.PositionOf "read_heads", childPath memory.Path "read_heads",
                             sprintf "more read heads (%d) than memory slots (%d)" mem.ReadHeads mem.Slots)

            let access =
                match get s Schema.access with
                | true ->
                    s.NotApplicable("ntm", "'ntm' settings apply to access: ntm only")
                    let lrua = s.Section("lrua")

                    let settings =
                        { Gamma = get lrua Schema.gamma
                          LeastUsed = get lrua Schema.leastUsed
                          LearnedKeyStrength = get lrua Schema.keyStrength
                          AddVector = get lrua Schema.addVector }

                    lrua.Finish()
                    Lrua settings
                | false ->
                    s.NotApplicable("lrua", "'lrua' settings apply to access: lrua only")
                    let ntm = s.Section("ntm")
                    let settings = { ShiftRange = get ntm Schema.shiftRange }
                    ntm.Finish()
                    Ntm settings

            Mann
                { Controller = get s Schema.controller
                  Hidden = hidden
                  Memory = mem
                  Access = access }
        | other ->
            for key in [ "memory"; Schema.access.Name; "lrua"; "ntm"; Schema.controller.Name ] do
                s.NotApplicable(key, mannOnly key + (match other with Some k -> sprintf " (this model is %s)" k | None -> ""))
            if other = Some "lstm" then Lstm hidden else FeedForward hidden

    s.Finish()
    result

let private training (s: Section) =
    let isAdam = get s Schema.optimizer

    let optimizer =
        if isAdam then
            for key in [ Schema.momentum.Name; Schema.decay.Name ] do
                s.NotApplicable(key, sprintf "'%s' applies to optimizer: rmsprop only" key)
            Adam
                { Lr = getOr s Schema.lr Schema.adamLr Schema.lr.Check.Test
                  Beta1 = get s Schema.beta1
                  Beta2 = get s Schema.beta2 }
        else
            for key in [ Schema.beta1.Name; Schema.beta2.Name ] do
                s.NotApplicable(key, sprintf "'%s' applies to optimizer: adam only" key)
            RmsProp
                { Lr = get s Schema.lr
                  Momentum = get s Schema.momentum
                  Decay = get s Schema.decay }

    let episodes = get s Schema.episodes

    let warmup =
        let check w =
            match Schema.warmup.Check.Test w with
            | Some problem -> Some problem
            | None when w >= episodes -> Some(sprintf "must be fewer than the episodes (%d), got %d" episodes w)
            | None -> None
        getOr s Schema.warmup Schema.warmup.Default.Value check

    let result =
        { Optimizer = optimizer
          Schedule = get s Schema.schedule
          Warmup = warmup
          BatchSize = get s Schema.batchSize
          Episodes = episodes
          GradClip = get s Schema.gradClip
          Seed = get s Schema.seed
          Device = get s Schema.device
          Threads = get s Schema.threads }

    s.Finish()
    result

let private evaluation (s: Section) (maxInstance: int) =
    let instances =
        match s.Optional(nameIn s Schema.evaluationInstances, listOf (positioned integer)) with
        | Some [] ->
            s.Ctx.Report(s.PositionOf "instances", childPath s.Path "instances", "list at least one instance to report")
            []
        | Some listed ->
            for i, (k, pos) in List.indexed listed do
                let path = sprintf "%s.instances[%d]" s.Path i
                if k < 1 || k > maxInstance then
                    s.Ctx.Report(pos, path, sprintf "instance %d is out of range: an episode shows each class at most %d times" k maxInstance)
                elif listed |> List.take i |> List.exists (fun (j, _) -> j = k) then
                    s.Ctx.Report(pos, path, sprintf "instance %d is listed twice" k)
            List.map fst listed
        | None when s.Has "instances" -> [] // reported by the decoder
        | None -> Schema.evaluationInstances.Default.Value |> List.filter (fun k -> k <= maxInstance)

    let result =
        { Every = get s Schema.evaluateEvery
          Episodes = get s Schema.evaluationEpisodes
          Instances = instances }

    s.Finish()
    result

/// Decodes a spec document (with any sweep point already applied); problems go to ctx.
let decode (ctx: Ctx) (root: Node) : Spec =
    let top = Section.Of(ctx, "", root)
    let name = required top Schema.name |> Option.defaultValue ""
    let description = get top Schema.description
    let tags = get top Schema.tags
    let ds, drawers = dataset (top.Section "dataset")
    let tk = task (top.Section "task") drawers
    let md = model (top.Section "model")
    let tr = training (top.Section "training")

    let ev = evaluation (top.Section "evaluation") tk.MaxInstance
    let checkpoint = top.Section "checkpoint"
    let checkpointEvery = get checkpoint Schema.checkpointEvery
    checkpoint.Finish()
    let defaultQueue = if tr.Device = Cuda then GpuQueue else CpuQueue
    let queue = getOr top Schema.queue defaultQueue Schema.queue.Check.Test
    let priority = get top Schema.priority
    top.Skip "sweep"
    top.Finish()

    { Name = name
      Description = description
      Tags = tags
      Dataset = ds
      Task = tk
      Model = md
      Training = tr
      Evaluation = ev
      CheckpointEvery = checkpointEvery
      Queue = queue
      Priority = priority }
