/// The spec language: sections, keys, defaults (the paper's 5-way one-hot setting) and checks.
module MannLab.Spec.SpecDecoder

open MannLab.Spec.Yaml
open MannLab.Spec.Decode

/// Omniglot's full set: 1,623 characters by 20 drawers.
let omniglotCharacters = 1623
let omniglotDrawers = 20
/// Five characters over five symbols.
let stringLabelCapacity = pown 5 5

let private nonEmpty what (s: string) = if s.Trim() = "" then Some(sprintf "%s must not be empty" what) else None

let private dataset (s: Section) =
    let source = s.Get("source", choice [ "omniglot", true; "synthetic", false ], true)
    let synthetic = s.Section("synthetic")

    let glyphs =
        { Alphabets = synthetic.Get("alphabets", integer, 20, positive "alphabets")
          CharactersPerAlphabet = synthetic.Get("characters", integer, 20, positive "characters")
          Drawers = synthetic.Get("drawers", integer, 20, positive "drawers")
          Seed = synthetic.Get("seed", integer, 0) }

    synthetic.Finish()

    let sourceValue, characters =
        if source then
            s.NotApplicable("synthetic", "'synthetic' settings apply to source: synthetic only")
            Omniglot(s.Optional("path", text, nonEmpty "path")), omniglotCharacters
        else
            s.NotApplicable("path", "'path' applies to source: omniglot only (synthetic glyphs are generated)")
            Synthetic glyphs, glyphs.Alphabets * glyphs.CharactersPerAlphabet

    let split = s.Get("split", choice [ "paper", true; "background-evaluation", false ], true)

    let splitValue =
        if split then
            let dflt = if source then 1200 else characters * 3 / 4
            let check n =
                if n > 0 && n < characters then None
                else Some(sprintf "must be between 1 and %d (the dataset has %d characters), got %d" (characters - 1) characters n)
            Paper(s.Get("train_characters", integer, dflt, check))
        else
            s.NotApplicable("train_characters", "'train_characters' applies to split: paper only")
            BackgroundEvaluation

    let augment = s.Section("augment")

    let augmentation =
        { Translate = augment.Get("translate", number, 1.0, atLeast 0.0)
          Rotate = augment.Get("rotate", number, 5.0, between 0.0 180.0 false false) }

    augment.Finish()

    let imageSize = s.Get("image_size", integer, 20, positive "image_size")

    let result =
        { Source = sourceValue
          ImageSize = imageSize
          RotationClasses = s.Get("rotation_classes", boolean, true)
          Split = splitValue
          SplitSeed = s.Get("split_seed", integer, 0)
          Augment = augmentation }

    s.Finish()
    result, (if source then omniglotDrawers else glyphs.Drawers)

let private task (s: Section) (drawers: int) =
    let labels = s.Get("labels", choice [ "one-hot", OneHot; "string", StringLabels ], OneHot)

    let classesCheck n =
        match positive "classes" n with
        | Some m -> Some m
        | None when labels = StringLabels && n > stringLabelCapacity ->
            Some(sprintf "string labels can name at most %d classes, got %d" stringLabelCapacity n)
        | None when n < 2 -> Some "an episode needs at least 2 classes"
        | None -> None

    let classes = s.Get("classes", integer, 5, classesCheck)

    let shape =
        if s.Has "length" && s.Has "instances" then
            s.Ctx.Report(s.PositionOf "length", childPath s.Path "length", "give either 'instances' (per class) or 'length' (steps per episode), not both")
            s.Skip "instances"
            s.Skip "length"
            InstancesPerClass 10
        elif s.Has "length" then
            Length(s.Get("length", integer, 50, positive "length"))
        else
            let check k =
                match positive "instances" k with
                | Some m -> Some m
                | None when k > drawers ->
                    Some(sprintf "the dataset has %d drawings of each character, so at most %d instances per class" drawers drawers)
                | None -> None
            InstancesPerClass(s.Get("instances", integer, 10, check))

    s.Finish()
    { Classes = classes; Shape = shape; Labels = labels }

let private model (s: Section) =
    let kind = s.Required("kind", choice [ "feedforward", "feedforward"; "lstm", "lstm"; "mann", "mann" ])
    let hidden = s.Get("hidden", integer, 200, positive "hidden")
    let mannOnly key = sprintf "'%s' applies to kind: mann only" key

    let result =
        match kind with
        | Some "mann" ->
            let memory = s.Section("memory")

            let mem =
                { Slots = memory.Get("slots", integer, 128, positive "slots")
                  Width = memory.Get("width", integer, 40, positive "width")
                  ReadHeads = memory.Get("read_heads", integer, 4, positive "read_heads")
                  Persistent = memory.Get("persistent", boolean, false) }

            memory.Finish()

            if mem.ReadHeads > mem.Slots then
                s.Ctx.Report(memory.PositionOf "read_heads", childPath memory.Path "read_heads",
                             sprintf "more read heads (%d) than memory slots (%d)" mem.ReadHeads mem.Slots)

            let access =
                match s.Get("access", choice [ "lrua", true; "ntm", false ], true) with
                | true ->
                    s.NotApplicable("ntm", "'ntm' settings apply to access: ntm only")
                    let lrua = s.Section("lrua")

                    let settings =
                        { Gamma = lrua.Get("gamma", number, 0.95, between 0.0 1.0 true false)
                          LeastUsed = lrua.Get("least_used", choice [ "literal", Literal; "per-head", PerHead ], Literal)
                          LearnedKeyStrength = lrua.Get("key_strength", choice [ "none", false; "learned", true ], false)
                          AddVector = lrua.Get("write", choice [ "key", false; "add-vector", true ], false) }

                    lrua.Finish()
                    Lrua settings
                | false ->
                    s.NotApplicable("lrua", "'lrua' settings apply to access: lrua only")
                    let ntm = s.Section("ntm")
                    let settings = { ShiftRange = ntm.Get("shift_range", integer, 1, atLeast 0) }
                    ntm.Finish()
                    Ntm settings

            Mann
                { Controller = s.Get("controller", choice [ "lstm", LstmController; "feedforward", FeedForwardController ], LstmController)
                  Hidden = hidden
                  Memory = mem
                  Access = access }
        | other ->
            for key in [ "memory"; "access"; "lrua"; "ntm"; "controller" ] do
                s.NotApplicable(key, mannOnly key + (match other with Some k -> sprintf " (this model is %s)" k | None -> ""))
            if other = Some "lstm" then Lstm hidden else FeedForward hidden

    s.Finish()
    result

let private training (s: Section) =
    let isAdam = s.Get("optimizer", choice [ "rmsprop", false; "adam", true ], false)
    let lr = positive "lr"
    let fraction = between 0.0 1.0 false true

    let optimizer =
        if isAdam then
            for key in [ "momentum"; "decay" ] do
                s.NotApplicable(key, sprintf "'%s' applies to optimizer: rmsprop only" key)
            Adam
                { Lr = s.Get("lr", number, 1e-3, lr)
                  Beta1 = s.Get("beta1", number, 0.9, fraction)
                  Beta2 = s.Get("beta2", number, 0.999, fraction) }
        else
            for key in [ "beta1"; "beta2" ] do
                s.NotApplicable(key, sprintf "'%s' applies to optimizer: adam only" key)
            RmsProp
                { Lr = s.Get("lr", number, 1e-4, lr)
                  Momentum = s.Get("momentum", number, 0.9, fraction)
                  Decay = s.Get("decay", number, 0.95, between 0.0 1.0 true true) }

    let result =
        { Optimizer = optimizer
          BatchSize = s.Get("batch_size", integer, 16, positive "batch_size")
          Episodes = s.Get("episodes", integer, 100_000, positive "episodes")
          GradClip =
            (if s.Has "grad_clip" then s.Optional("grad_clip", number, positive "grad_clip") else Some 10.0)
          Seed = s.Get("seed", integer, 0)
          Device = s.Get("device", choice [ "cpu", Cpu; "cuda", Cuda; "auto", Auto ], Cpu)
          Threads = s.Get("threads", integer, 1, positive "threads") }

    s.Finish()
    result

let private evaluation (s: Section) (maxInstance: int) =
    let instances =
        match s.Optional("instances", listOf (positioned integer)) with
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
        | None -> [ 1; 2; 3; 4; 5; 10 ] |> List.filter (fun k -> k <= maxInstance)

    let result =
        { Every = s.Get("every", integer, 2000, positive "every")
          Episodes = s.Get("episodes", integer, 256, positive "episodes")
          Instances = instances }

    s.Finish()
    result

/// Decodes a spec document (with any sweep point already applied); problems go to ctx.
let decode (ctx: Ctx) (root: Node) : Spec =
    let top = Section.Of(ctx, "", root)
    let name = top.Required("name", text, nonEmpty "name") |> Option.defaultValue ""
    let description = top.Optional("description", text)
    let tags = top.Get("tags", listOf text, [])
    let ds, drawers = dataset (top.Section "dataset")
    let tk = task (top.Section "task") drawers
    let md = model (top.Section "model")
    let tr = training (top.Section "training")

    let ev = evaluation (top.Section "evaluation") tk.MaxInstance
    let checkpoint = top.Section "checkpoint"
    let checkpointEvery = checkpoint.Get("every", integer, 5000, positive "every")
    checkpoint.Finish()
    let defaultQueue = if tr.Device = Cuda then GpuQueue else CpuQueue
    let queue = top.Get("queue", choice [ "cpu", CpuQueue; "gpu", GpuQueue ], defaultQueue)
    let priority = top.Get("priority", choice [ "low", Low; "normal", Normal; "high", High ], Normal)
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
