/// Decoding positioned YAML nodes into typed values, collecting every problem instead of stopping at the first.
module MannLab.Spec.Decode

open System
open System.Collections.Generic
open System.Globalization
open MannLab.Spec.Yaml

/// Where decoding problems are gathered; one per decoded document.
type Ctx() =
    let problems = ResizeArray<Problem>()
    member _.Report(pos, path, message) = problems.Add { Pos = pos; Path = path; Message = message }
    member _.Problems = List.ofSeq problems

/// Decodes one node at a field path; None after reporting a problem.
type Decoder<'a> = Ctx -> string -> Node -> 'a option

let private levenshtein (a: string) (b: string) =
    let d = Array2D.init (a.Length + 1) (b.Length + 1) (fun i j -> if i = 0 then j elif j = 0 then i else 0)
    for i in 1 .. a.Length do
        for j in 1 .. b.Length do
            let cost = if a[i - 1] = b[j - 1] then 0 else 1
            d[i, j] <- min (min (d[i - 1, j] + 1) (d[i, j - 1] + 1)) (d[i - 1, j - 1] + cost)
    d[a.Length, b.Length]

let private normal (s: string) = s.ToLowerInvariant().Replace('-', '_')

/// " (did you mean 'x'?)" for the closest candidate within a few edits, else "".
let suggest (given: string) (candidates: string seq) =
    candidates
    |> Seq.map (fun c -> c, levenshtein (normal given) (normal c))
    |> Seq.filter (fun (c, d) -> d <= max 1 (min 3 (c.Length / 3)))
    |> Seq.sortBy snd
    |> Seq.tryHead
    |> Option.map (fun (c, _) -> sprintf " (did you mean '%s'?)" c)
    |> Option.defaultValue ""

let describe node =
    match node with
    | n when isNull n -> "nothing"
    | Scalar(t, true, _) -> sprintf "'%s'" t
    | Scalar(t, false, _) -> sprintf "the quoted text \"%s\"" t
    | Sequence _ -> "a list"
    | Mapping _ -> "a section"

let private fail (ctx: Ctx) path node expected =
    ctx.Report(posOf node, path, sprintf "expected %s, got %s" expected (describe node))
    None

/// Numbers and booleans must be plain scalars: a quoted "5" is text, as in YAML itself.
let integer: Decoder<int> =
    fun ctx path node ->
        match node with
        | Scalar(t, true, _) when not (isNull node) ->
            let t = t.Replace("_", "")
            match Int32.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) with
            | true, v -> Some v
            | _ ->
                // 1e5 is a common way to write 100000.
                match Double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture) with
                | true, v when v = Math.Floor v && abs v <= float Int32.MaxValue -> Some(int v)
                | _ -> fail ctx path node "a whole number"
        | _ -> fail ctx path node "a whole number"

let number: Decoder<float> =
    fun ctx path node ->
        match node with
        | Scalar(t, true, _) when not (isNull node) ->
            match Double.TryParse(t.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, v when Double.IsFinite v -> Some v
            | _ -> fail ctx path node "a number"
        | _ -> fail ctx path node "a number"

let boolean: Decoder<bool> =
    fun ctx path node ->
        match node with
        | Scalar(t, true, _) when t.ToLowerInvariant() = "true" -> Some true
        | Scalar(t, true, _) when t.ToLowerInvariant() = "false" -> Some false
        | _ -> fail ctx path node "true or false"

let text: Decoder<string> =
    fun ctx path node ->
        match node with
        | Scalar(t, _, _) when not (isNull node) -> Some t
        | _ -> fail ctx path node "text"

/// One of a fixed set of words; the message lists them and suggests the closest.
let choice (options: (string * 'a) list) : Decoder<'a> =
    fun ctx path node ->
        let names = options |> List.map fst
        let listed = String.Join(", ", names)
        match node with
        | Scalar(t, _, pos) when not (isNull node) ->
            match options |> List.tryFind (fun (n, _) -> normal n = normal t) with
            | Some(_, v) -> Some v
            | None ->
                ctx.Report(pos, path, sprintf "expected one of %s, got '%s'%s" listed t (suggest t names))
                None
        | _ -> fail ctx path node ("one of " + listed)

let listOf (item: Decoder<'a>) : Decoder<'a list> =
    fun ctx path node ->
        match node with
        | Sequence(items, _) ->
            let decoded = items |> List.mapi (fun i n -> item ctx (sprintf "%s[%d]" path i) n)
            if List.forall Option.isSome decoded then Some(List.choose id decoded) else None
        | _ -> fail ctx path node "a list"

/// The value together with where it was written, for checks that involve other fields.
let positioned (decoder: Decoder<'a>) : Decoder<'a * Position> =
    fun ctx path node -> decoder ctx path node |> Option.map (fun v -> v, posOf node)

let childPath path key = if path = "" then key else path + "." + key

/// A mapping section. Every key the decoder asks for (or rules out) is known; anything else is
/// reported by Finish as unknown, with the closest known key suggested.
/// A section given as something else (a list, a value) is reported once; its required keys are
/// then not reported again as missing.
type Section(ctx: Ctx, path: string, pos: Position, entries: Entry list, malformed: bool) =
    let known = HashSet<string>()

    let find key =
        known.Add key |> ignore
        entries |> List.tryFind (fun e -> e.Key = key)

    let checkedValue key (decoder: Decoder<'a>) (check: 'a -> string option) (e: Entry) =
        match decoder ctx (childPath path key) e.Value with
        | Some v ->
            match check v with
            | Some message ->
                ctx.Report(posOf e.Value, childPath path key, message)
                None
            | None -> Some v
        | None -> None

    new(ctx, path, pos, entries) = Section(ctx, path, pos, entries, false)

    static member Of(ctx: Ctx, path: string, node: Node) =
        match node with
        | Mapping(entries, pos) -> Section(ctx, path, pos, entries)
        | n when isNull n -> Section(ctx, path, posOf n, [])
        | other ->
            fail ctx path other "a section of 'key: value' lines" |> ignore
            Section(ctx, path, posOf other, [], true)

    member _.Ctx = ctx
    member _.Path = path
    member _.Position = pos

    /// Where a key's value stands, or the section itself when the key is absent.
    member _.PositionOf key =
        entries |> List.tryFind (fun e -> e.Key = key) |> Option.map (fun e -> posOf e.Value) |> Option.defaultValue pos

    member _.Has key = entries |> List.exists (fun e -> e.Key = key)

    /// The value, or dflt when absent or unusable (an unusable value has been reported).
    member _.Get(key, decoder: Decoder<'a>, dflt: 'a, ?check: 'a -> string option) =
        match find key with
        | None -> dflt
        | Some e -> checkedValue key decoder (defaultArg check (fun _ -> None)) e |> Option.defaultValue dflt

    /// Absent or null gives None.
    member _.Optional(key, decoder: Decoder<'a>, ?check: 'a -> string option) =
        match find key with
        | Some e when not (isNull e.Value) -> checkedValue key decoder (defaultArg check (fun _ -> None)) e
        | _ -> None

    member _.Required(key, decoder: Decoder<'a>, ?check: 'a -> string option) =
        match find key with
        | None ->
            if not malformed then ctx.Report(pos, childPath path key, sprintf "missing required value '%s'" key)
            None
        | Some e -> checkedValue key decoder (defaultArg check (fun _ -> None)) e

    member _.Section(key) =
        match find key with
        | None -> Section(ctx, childPath path key, pos, [])
        | Some e -> Section.Of(ctx, childPath path key, e.Value)

    /// A key that exists in the language but does not apply here, e.g. memory on an lstm model.
    member _.NotApplicable(key, reason: string) =
        match find key with
        | Some e -> ctx.Report(e.KeyPos, childPath path key, reason)
        | None -> ()

    /// Marks a key as handled elsewhere.
    member _.Skip(key) = find key |> ignore

    member _.Finish() =
        for e in entries do
            if not (known.Contains e.Key) then
                ctx.Report(e.KeyPos, childPath path e.Key, sprintf "unknown key '%s'%s" e.Key (suggest e.Key known))

let inline positive (what: string) v =
    if v > LanguagePrimitives.GenericZero then None else Some(sprintf "%s must be greater than 0, got %O" what v)

let atLeast (low: 'a) (v: 'a) : string option when 'a: comparison =
    if v >= low then None else Some(sprintf "must be at least %O, got %O" low v)

let between (low: float) (high: float) (lowOpen: bool) (highOpen: bool) (v: float) =
    let lowOk = if lowOpen then v > low else v >= low
    let highOk = if highOpen then v < high else v <= high
    if lowOk && highOk then
        None
    else
        Some(sprintf "must be in %s%g, %g%s, got %g" (if lowOpen then "(" else "[") low high (if highOpen then ")" else "]") v)
