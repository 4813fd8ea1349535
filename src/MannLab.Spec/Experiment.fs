/// Spec files: reading, validating, and expanding sweeps into runs with stable ids.
namespace MannLab.Spec

open System
open System.IO
open System.Text.Json.Nodes
open MannLab.Spec.Yaml
open MannLab.Spec.Decode

/// One swept field at one point of a sweep.
type SweepValue =
    { Path: string
      /// The value as the file writes it, in YAML flow style, e.g. {kind: mann, access: ntm}.
      Written: string
      /// The resolved value at that path as JSON, defaults filled in.
      Resolved: string }

/// One run of an experiment: one point of its sweep (the only one when there is no sweep).
type Run =
    { /// Position in the sweep's deterministic order, from 0.
      Index: int
      /// Stable id derived from the resolved spec (Canonical.runId).
      Id: string
      /// The swept fields, in the sweep's order; empty without a sweep.
      Point: SweepValue list
      Spec: Spec }

    member r.Json = Canonical.toJson r.Spec

    /// "model.lrua.gamma=0.9, training.seed=1", or "" without a sweep.
    member r.PointText = r.Point |> List.map (fun v -> sprintf "%s=%s" v.Path v.Written) |> String.concat ", "

type ExperimentFile =
    { File: string
      Text: string
      Runs: Run list
      /// Changes exactly when some run's resolved spec changes.
      Hash: string }

module Experiments =
    /// Expansion stops here: a grid this large is a typo, not an experiment.
    let maxRuns = 10_000

    let private toErrors file (problems: Problem list) =
        problems
        |> List.distinct
        |> List.sortBy (fun p -> p.Pos.Line, p.Pos.Column)
        |> List.map (fun p -> { File = file; Position = p.Pos; Path = p.Path; Message = p.Message })

    /// The sweep section: (field path, where the path is written, values).
    let private sweepAxes (ctx: Ctx) (root: Node) =
        match root with
        | Mapping(entries, _) ->
            match entries |> List.tryFind (fun e -> e.Key = Schema.Sections.sweep.Path) with
            | None -> []
            | Some e when isNull e.Value -> []
            | Some { Value = Mapping(axes, _) } ->
                axes
                |> List.choose (fun a ->
                    let path = Schema.Sections.sweep.Path + "." + a.Key
                    let segments = a.Key.Split '.'
                    if segments |> Array.exists String.IsNullOrWhiteSpace then
                        ctx.Report(a.KeyPos, path, sprintf "'%s' is not a field path like model.lrua.gamma" a.Key)
                        None
                    elif segments[0] = Schema.Sections.sweep.Path then
                        ctx.Report(a.KeyPos, path, "a sweep cannot sweep over itself")
                        None
                    else
                        match a.Value with
                        | Sequence([], pos) ->
                            ctx.Report(pos, path, "an empty list: give at least one value to sweep over")
                            None
                        | Sequence(values, _) -> Some(a.Key, a.KeyPos, values)
                        | other ->
                            ctx.Report(posOf other, path, sprintf "expected a list of values to sweep over, got %s" (describe other))
                            None)
            | Some e ->
                ctx.Report(posOf e.Value, Schema.Sections.sweep.Path, sprintf "expected a section of 'field.path: [values]' lines, got %s" (describe e.Value))
                []
        | _ -> []

    /// Replaces (or adds) the node at a field path. Added keys carry the sweep line's position,
    /// so an unknown path is reported there by the ordinary unknown-key check.
    let rec private setPath (parent: string) (node: Node) (segments: string list) (keyPos: Position) (value: Node) : Result<Node, string> =
        match segments, node with
        | [], _ -> Ok value
        | _, n when isNull n -> setPath parent (Mapping([], posOf n)) segments keyPos value
        | key :: rest, Mapping(entries, pos) ->
            match entries |> List.tryFindIndex (fun e -> e.Key = key) with
            | Some i ->
                setPath key entries[i].Value rest keyPos value
                |> Result.map (fun v -> Mapping(entries |> List.updateAt i { entries[i] with Value = v }, pos))
            | None ->
                setPath key (Mapping([], keyPos)) rest keyPos value
                |> Result.map (fun v -> Mapping(entries @ [ { Key = key; KeyPos = keyPos; Value = v } ], pos))
        | _ -> Error(sprintf "'%s' holds a value, not a section, so it has no field below it" parent)

    let rec private product axes =
        match axes with
        | [] -> [ [] ]
        | (path, pos, values) :: rest -> [ for v in values do for tail in product rest -> (path, pos, v) :: tail ]

    let private resolvedValue (spec: Spec) (path: string) =
        let rec walk (node: JsonNode | null) segments : JsonNode | null =
            match segments, node with
            | [], _ -> node
            | key :: rest, (:? JsonObject as o) when o.ContainsKey key -> walk o[key] rest
            | _ -> null
        let segments = List.ofArray (path.Split '.')
        match walk (JsonNode.Parse(Canonical.toFullJson spec)) segments with
        | null -> "null"
        // A swept section is shown as the canonical form writes it: a later key at its default
        // (task.kind: classification) would only lengthen every label.
        | :? JsonObject -> (walk (JsonNode.Parse(Canonical.toJson spec)) segments |> Option.ofObj |> Option.map _.ToJsonString()) |> Option.defaultValue "null"
        | n -> n.ToJsonString()

    let private fromRoot (file: string) (text: string) (root: Node) : Result<ExperimentFile, SpecError list> =
        let sweepCtx = Ctx()
        let axes = sweepAxes sweepCtx root
        let size = axes |> List.fold (fun n (_, _, vs) -> n * int64 (List.length vs)) 1L

        if not sweepCtx.Problems.IsEmpty then
            Error(toErrors file sweepCtx.Problems)
        elif size > int64 maxRuns then
            let _, pos, _ = axes.Head
            Error(toErrors file [ { Pos = pos; Path = Schema.Sections.sweep.Path; Message = sprintf "the sweep expands to %d runs; at most %d are allowed" size maxRuns } ])
        else
            let points =
                product axes
                |> List.map (fun point ->
                    let ctx = Ctx()
                    let applied =
                        point
                        |> List.fold
                            (fun node (path, pos, value) ->
                                match setPath "" node (List.ofArray (path.Split '.')) pos value with
                                | Ok n -> n
                                | Error message ->
                                    ctx.Report(pos, "sweep." + path, message)
                                    node)
                            root
                    let spec = SpecDecoder.decode ctx applied
                    point, spec, ctx.Problems)

            match points |> List.collect (fun (_, _, problems) -> problems) with
            | [] ->
                let runs =
                    points
                    |> List.mapi (fun i (point, spec, _) ->
                        { Index = i
                          Id = Canonical.runId spec
                          Point =
                            point
                            |> List.map (fun (path, _, value) -> { Path = path; Written = Yaml.flow value; Resolved = resolvedValue spec path })
                          Spec = spec })
                let hash = runs |> List.map (fun r -> r.Json) |> String.concat "\n" |> Canonical.sha256
                Ok { File = file; Text = text; Runs = runs; Hash = hash }
            | problems -> Error(toErrors file problems)

    /// Validates a spec's text and expands it. Errors name `file`, line, column and field path.
    let parse (file: string) (text: string) : Result<ExperimentFile, SpecError list> =
        match Yaml.parse text with
        | Error problems -> Error(toErrors file problems)
        | Ok None ->
            Error(toErrors file [ { Pos = { Line = 1; Column = 1 }; Path = ""; Message = "the file is empty: a spec needs at least 'name' and 'model: {kind: ...}'" } ])
        | Ok(Some root) -> fromRoot file text root

    let load (file: string) : Result<ExperimentFile, SpecError list> =
        let text =
            try
                Ok(File.ReadAllText file)
            with e ->
                Error [ { File = file; Position = { Line = 1; Column = 1 }; Path = ""; Message = sprintf "cannot read the file: %s" e.Message } ]
        text |> Result.bind (parse file)

    /// Reads a resolved spec back from its canonical JSON (JSON is YAML, so the same decoder serves).
    let specOfJson (json: string) : Result<Spec, SpecError list> =
        parse "<stored spec>" json
        |> Result.bind (fun e ->
            match e.Runs with
            | [ run ] -> Ok run.Spec
            | runs -> Error [ { File = "<stored spec>"; Position = { Line = 1; Column = 1 }; Path = Schema.Sections.sweep.Path; Message = sprintf "a stored spec is one run, not %d" runs.Length } ])

    let private resolved text =
        match parse "<defaults>" text with
        | Ok e -> e.Runs.Head.Spec
        | Error errors -> invalidOp (sprintf "the defaults do not resolve: %A" errors)

    /// The paper's setting (Santoro et al. 2016: 5-way one-hot Omniglot, the MANN with LRUA): the
    /// spec that states nothing else, so every value in it is the language's default.
    let paper = resolved "name: paper\nmodel: {kind: mann}\n"

    /// The paper's setting on synthetic glyphs, for what must run without Omniglot.
    let paperSynthetic = resolved "name: paper\nmodel: {kind: mann}\ndataset: {source: synthetic}\n"

    /// The spec files under the given files and folders (folders recursively: *.yaml, *.yml), sorted.
    let discover (paths: string seq) =
        paths
        |> Seq.collect (fun p ->
            if Directory.Exists p then
                Directory.EnumerateFiles(p, "*.*", SearchOption.AllDirectories)
                |> Seq.filter (fun f -> f.EndsWith ".yaml" || f.EndsWith ".yml")
                |> Seq.sort
            else
                Seq.singleton p)
        |> List.ofSeq
