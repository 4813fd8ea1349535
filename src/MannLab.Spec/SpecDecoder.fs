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

/// The last name of a key's or a section's path, checked against the section it is read in:
/// reading one in a section it does not belong to is a bug here.
let private nameOf (s: Section) (path: string) =
    let name = path.Substring(path.LastIndexOf '.' + 1)
    if childPath s.Path name <> path then invalidOp (sprintf "%s is read in the section '%s'" path s.Path)
    name

let private nameIn (s: Section) (k: Schema.Key<'a>) = nameOf s k.Path

/// A section within s, by the schema's name for it.
let private sub (s: Section) (g: Schema.SectionName) = s.Section(nameOf s g.Path)

/// A key or section that s holds but that does not apply, by the schema's path.
let private notApplicable (s: Section) path reason = s.NotApplicable(nameOf s path, reason)

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
    let synthetic = sub s Schema.Sections.synthetic

    let glyphs =
        { Alphabets = get synthetic Schema.alphabets
          CharactersPerAlphabet = get synthetic Schema.characters
          Drawers = get synthetic Schema.drawers
          Seed = get synthetic Schema.glyphSeed }

    synthetic.Finish()

    let sourceValue, characters =
        if source then
            notApplicable s Schema.Sections.synthetic.Path "'synthetic' settings apply to source: synthetic only"
            Omniglot(get s Schema.omniglotPath), omniglotCharacters
        else
            notApplicable s Schema.omniglotPath.Path "'path' applies to source: omniglot only (synthetic glyphs are generated)"
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
            notApplicable s Schema.trainCharacters.Path "'train_characters' applies to split: paper only"
            BackgroundEvaluation

    let augment = sub s Schema.Sections.augment

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

/// A regression's task: the GP prior and the points it is observed at; no classification key applies.
let private regressionTask (s: Section) =
    for path in
        [ Schema.classes.Path; Schema.instances.Path; Schema.length.Path; Schema.lengthPerClass.Path; Schema.labels.Path
          Schema.Sections.curriculum.Path ] do
        notApplicable s path (sprintf "'%s' applies to task.kind: classification only (this task is a regression)" (nameOf s path))
    let r = sub s Schema.Sections.regression
    let low = get r Schema.inputLow
    let high =
        let check x = if x > low then None else Some(sprintf "must be above x_low (%s), got %s" (Schema.show (Schema.Number low)) (Schema.show (Schema.Number x)))
        getOr r Schema.inputHigh Schema.inputHigh.Default.Value check
    let gp =
        { Dimensions = get r Schema.dimensions
          Points = get r Schema.points
          InputLow = low
          InputHigh = high
          LengthScale = get r Schema.lengthScale
          SignalVariance = get r Schema.signalVariance
          NoiseVariance = get r Schema.noiseVariance }
    r.Finish()
    s.Finish()
    { Classes = Schema.classes.Default.Value
      Shape = InstancesPerClass Schema.instances.Default.Value
      Labels = OneHot
      Curriculum = None
      Kind = Regression gp }

let private classificationTask (s: Section) (drawers: int) =
    notApplicable s Schema.Sections.regression.Path "'regression' settings apply to task.kind: regression only"
    let labels = get s Schema.labels

    let classesCheck n =
        match positive Schema.classes.Name n with
        | Some m -> Some m
        | None when labels = StringLabels && n > stringLabelCapacity ->
            Some(sprintf "string labels can name at most %d classes, got %d" stringLabelCapacity n)
        | None when n < 2 -> Some "an episode needs at least 2 classes"
        | None -> None

    let classes = getOr s Schema.classes Schema.classes.Default.Value classesCheck

    let shape =
        let keys = [ Schema.instances; Schema.length; Schema.lengthPerClass ] |> List.map (nameIn s)
        match keys |> List.filter s.Has with
        | _ :: second :: _ as given ->
            s.Ctx.Report(s.PositionOf second, childPath s.Path second,
                         "give one of 'instances' (per class), 'length' (steps per episode) and 'length_per_class', not " +
                         (given |> List.map (sprintf "'%s'") |> String.concat " and "))
            List.iter s.Skip given
            InstancesPerClass Schema.instances.Default.Value
        | [ only ] when only = nameIn s Schema.length ->
            // An unusable length (reported) stands for the paper's episode length, for the checks after it.
            let paperLength = Schema.classes.Default.Value * Schema.instances.Default.Value
            Length(getOr s Schema.length paperLength Schema.length.Check.Test)
        | [ only ] when only = nameIn s Schema.lengthPerClass ->
            LengthPerClass(getOr s Schema.lengthPerClass Schema.instances.Default.Value Schema.lengthPerClass.Check.Test)
        | _ ->
            let check k =
                match positive Schema.instances.Name k with
                | Some m -> Some m
                | None when k > drawers ->
                    Some(sprintf "the dataset has %d drawings of each character, so at most %d instances per class" drawers drawers)
                | None -> None
            InstancesPerClass(getOr s Schema.instances Schema.instances.Default.Value check)

    let curriculum =
        let name = nameOf s Schema.Sections.curriculum.Path
        match s.Optional(name, (fun _ _ node -> Some node)) with
        | None ->
            s.Skip name
            None
        | Some _ ->
            let c = sub s Schema.Sections.curriculum
            let startCheck n =
                if n < 2 then Some(sprintf "an episode needs at least 2 classes, got %d" n)
                elif n > classes then Some(sprintf "starts above task.classes (%d), the most classes the curriculum grows to; got %d" classes n)
                else None
            let start = c.Required(nameIn c Schema.curriculumStart, Schema.curriculumStart.Read, startCheck)
            let schedule = { Start = defaultArg start 2; Add = get c Schema.curriculumAdd; Every = get c Schema.curriculumEvery }
            c.Finish()
            match shape with
            | Length _ ->
                s.Ctx.Report(s.PositionOf name, Schema.Sections.curriculum.Path,
                             "a curriculum changes the classes, so the episode's length must follow them: give 'instances' or 'length_per_class' instead of 'length'")
            | InstancesPerClass _
            | LengthPerClass _ -> ()
            Some schedule

    s.Finish()
    { Classes = classes; Shape = shape; Labels = labels; Curriculum = curriculum; Kind = Classification }

let private task (s: Section) (classifying: bool) (drawers: int) =
    if classifying then classificationTask s drawers else regressionTask s

let private model (s: Section) =
    let kind = required s Schema.kind
    let thisModel = match kind with Some k -> sprintf " (this model is %s)" k | None -> ""
    let onlyFor what (keys: string list) =
        for path in keys do
            notApplicable s path (sprintf "'%s' applies to %s only%s" (nameOf s path) what thisModel)
    let mannKeys = [ Schema.Sections.memory.Path; Schema.access.Path; Schema.Sections.lrua.Path; Schema.Sections.ntm.Path; Schema.controller.Path ]

    if kind <> Some "knn" then onlyFor "kind: knn" [ Schema.features.Path; Schema.Sections.autoencoder.Path ]

    let result =
        match kind with
        | Some "knn" ->
            onlyFor "kind: mann" mannKeys
            notApplicable s Schema.hidden.Path "a kNN has no controller: the autoencoder's layers are model.autoencoder.hidden"
            if get s Schema.features then
                let autoencoder = sub s Schema.Sections.autoencoder
                let settings = { Hidden = get autoencoder Schema.autoencoderHidden; Code = get autoencoder Schema.code }
                autoencoder.Finish()
                Knn(Autoencoder settings)
            else
                onlyFor "features: autoencoder" [ Schema.Sections.autoencoder.Path ]
                Knn RawPixels
        | Some "mann" ->
            let hidden = get s Schema.hidden
            let memory = sub s Schema.Sections.memory

            let mem =
                { Slots = get memory Schema.slots
                  Width = get memory Schema.width
                  ReadHeads = get memory Schema.readHeads
                  Persistent = get memory Schema.persistent }

            memory.Finish()

            if mem.ReadHeads > mem.Slots then
                s.Ctx.Report(memory.PositionOf(nameIn memory Schema.readHeads), Schema.readHeads.Path,
                             sprintf "more read heads (%d) than memory slots (%d)" mem.ReadHeads mem.Slots)

            let access =
                match get s Schema.access with
                | true ->
                    notApplicable s Schema.Sections.ntm.Path "'ntm' settings apply to access: ntm only"
                    let lrua = sub s Schema.Sections.lrua

                    let settings =
                        { Gamma = get lrua Schema.gamma
                          LeastUsed = get lrua Schema.leastUsed
                          LearnedKeyStrength = get lrua Schema.keyStrength
                          AddVector = get lrua Schema.addVector }

                    lrua.Finish()
                    Lrua settings
                | false ->
                    notApplicable s Schema.Sections.lrua.Path "'lrua' settings apply to access: lrua only"
                    let ntm = sub s Schema.Sections.ntm
                    let settings = { ShiftRange = get ntm Schema.shiftRange }
                    ntm.Finish()
                    Ntm settings

            Mann
                { Controller = get s Schema.controller
                  Hidden = hidden
                  Memory = mem
                  Access = access }
        | other ->
            onlyFor "kind: mann" mannKeys
            let hidden = get s Schema.hidden
            if other = Some "lstm" then Lstm hidden else FeedForward hidden

    s.Finish()
    result

let private training (s: Section) =
    let isAdam = get s Schema.optimizer

    let optimizer =
        if isAdam then
            for k in [ Schema.momentum; Schema.decay ] do
                notApplicable s k.Path (sprintf "'%s' applies to optimizer: rmsprop only" k.Name)
            Adam
                { Lr = getOr s Schema.lr Schema.adamLr Schema.lr.Check.Test
                  Beta1 = get s Schema.beta1
                  Beta2 = get s Schema.beta2 }
        else
            for k in [ Schema.beta1; Schema.beta2 ] do
                notApplicable s k.Path (sprintf "'%s' applies to optimizer: adam only" k.Name)
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

let private evaluation (s: Section) (task: Task) =
    let maxInstance = task.MaxInstance
    let regression = task.Regression.IsSome
    if regression then
        for path in [ Schema.evaluationInstances.Path; Schema.evaluationClasses.Path ] do
            notApplicable s path (sprintf "'%s' applies to task.kind: classification only: a regression is scored at every step" (nameOf s path))
    let instances =
        match (if regression then None else s.Optional(nameIn s Schema.evaluationInstances, listOf (positioned integer))) with
        | _ when regression -> []
        | Some [] ->
            s.Ctx.Report(s.PositionOf(nameIn s Schema.evaluationInstances), Schema.evaluationInstances.Path, "list at least one instance to report")
            []
        | Some listed ->
            for i, (k, pos) in List.indexed listed do
                let path = sprintf "%s[%d]" Schema.evaluationInstances.Path i
                if k < 1 || k > maxInstance then
                    s.Ctx.Report(pos, path, sprintf "instance %d is out of range: an episode shows each class at most %d times" k maxInstance)
                elif listed |> List.take i |> List.exists (fun (j, _) -> j = k) then
                    s.Ctx.Report(pos, path, sprintf "instance %d is listed twice" k)
            List.map fst listed
        | None when s.Has(nameIn s Schema.evaluationInstances) -> [] // reported by the decoder
        | None -> Schema.evaluationInstances.Default.Value |> List.filter (fun k -> k <= maxInstance)

    let classes =
        match (if regression then None else s.Optional(nameIn s Schema.evaluationClasses, listOf (positioned integer))) with
        | Some listed ->
            let capacity, encodes =
                match task.Labels with
                | OneHot -> task.Classes, sprintf "one-hot labels encode task.classes (%d) classes" task.Classes
                | StringLabels -> stringLabelCapacity, sprintf "string labels can name at most %d classes" stringLabelCapacity
            if not listed.IsEmpty && not task.ScalesWithClasses then
                s.Ctx.Report(s.PositionOf(nameIn s Schema.evaluationClasses), Schema.evaluationClasses.Path,
                             "episodes of task.length have one length whatever their classes; give task.instances or task.length_per_class to evaluate at other class counts")
            for i, (n, pos) in List.indexed listed do
                let path = sprintf "%s[%d]" Schema.evaluationClasses.Path i
                if n < 2 then s.Ctx.Report(pos, path, sprintf "an episode needs at least 2 classes, got %d" n)
                elif n > capacity then s.Ctx.Report(pos, path, sprintf "%s, got %d" encodes n)
                elif listed |> List.take i |> List.exists (fun (m, _) -> m = n) then s.Ctx.Report(pos, path, sprintf "%d classes is listed twice" n)
            List.map fst listed
        | None -> []

    let result =
        { Every = get s Schema.evaluateEvery
          Episodes = get s Schema.evaluationEpisodes
          Instances = instances
          Classes = classes }

    s.Finish()
    result

/// Decodes a spec document (with any sweep point already applied); problems go to ctx.
let decode (ctx: Ctx) (root: Node) : Spec =
    let top = Section.Of(ctx, "", root)
    let name = required top Schema.name |> Option.defaultValue ""
    let description = get top Schema.description
    let tags = get top Schema.tags
    let taskSection = sub top Schema.Sections.task
    let classifying = get taskSection Schema.taskKind
    let ds, drawers =
        if classifying then dataset (sub top Schema.Sections.dataset)
        else
            notApplicable top Schema.Sections.dataset.Path "a regression draws each episode's function from its GP prior: it reads no dataset"
            dataset (Section(ctx, Schema.Sections.dataset.Path, top.Position, []))
    let tk = task taskSection classifying drawers
    let md = model (sub top Schema.Sections.model)

    if not classifying && md.IsKnn then
        let modelSection = sub top Schema.Sections.model
        ctx.Report(modelSection.PositionOf(nameOf modelSection Schema.kind.Path), Schema.kind.Path,
                   "a kNN labels images by their nearest earlier image; a regression needs a feedforward, lstm or mann model")
    let tr = training (sub top Schema.Sections.training)

    if tk.Curriculum.IsSome && not md.Learns then
        let taskSection = sub top Schema.Sections.task
        ctx.Report(taskSection.PositionOf(nameOf taskSection Schema.Sections.curriculum.Path), Schema.Sections.curriculum.Path,
                   "a kNN on raw pixels does not train, so there is no curriculum to follow")

    let ev = evaluation (sub top Schema.Sections.evaluation) tk
    let checkpoint = sub top Schema.Sections.checkpoint
    let checkpointEvery = get checkpoint Schema.checkpointEvery
    checkpoint.Finish()
    let defaultQueue = if tr.Device = Cuda then GpuQueue else CpuQueue
    let queue = getOr top Schema.queue defaultQueue Schema.queue.Check.Test
    let priority = get top Schema.priority
    top.Skip(nameOf top Schema.Sections.sweep.Path)
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
