/// YAML text to a node tree in which every node keeps its line and column.
/// YamlDotNet's deserializer loses positions on type errors and zero-fills missing members, so
/// we read its event stream and build our own tree; duplicate keys are found here, for every mapping.
module MannLab.Spec.Yaml

open System.Collections.Generic
open System.IO
open System.Text.RegularExpressions
open YamlDotNet.Core
open YamlDotNet.Core.Events

type Node =
    | Scalar of text: string * plain: bool * pos: Position
    | Sequence of items: Node list * pos: Position
    | Mapping of entries: Entry list * pos: Position

and Entry = { Key: string; KeyPos: Position; Value: Node }

let posOf node =
    match node with
    | Scalar(_, _, p)
    | Sequence(_, p)
    | Mapping(_, p) -> p

/// A plain `~`, `null` or empty scalar: YAML's null.
let isNull node =
    match node with
    | Scalar(t, true, _) -> t = "" || t = "~" || t.ToLowerInvariant() = "null"
    | _ -> false

/// A node in YAML flow style, for showing a value on one line: [a, b], {k: v}.
let rec flow node =
    match node with
    | Scalar(t, true, _) -> t
    | Scalar(t, false, _) -> "\"" + t.Replace("\"", "\\\"") + "\""
    | Sequence(items, _) -> "[" + (items |> List.map flow |> String.concat ", ") + "]"
    | Mapping(entries, _) -> "{" + (entries |> List.map (fun e -> e.Key + ": " + flow e.Value) |> String.concat ", ") + "}"

/// A problem found while reading, before any field is decoded.
type Problem = { Pos: Position; Path: string; Message: string }

let private mark (m: Mark) = { Line = int m.Line; Column = int m.Column }

/// A structural problem found while building the tree (an unknown alias, an unexpected event).
exception private Malformed of Position * string

let private childPath path key = if path = "" then key else path + "." + key

/// YamlDotNet prefixes messages with "(Line: .., Col: .., Idx: ..) - (...): "; the position is reported separately.
let private bare (message: string) = Regex.Replace(message, @"^\(Line: .*?\) - \(Line: .*?\): ", "")

/// Parses one YAML document. Ok None for a file with no document at all.
let parse (text: string) : Result<Node option, Problem list> =
    let problems = ResizeArray<Problem>()
    let anchors = Dictionary<string, Node>()
    let parser = Parser(new StringReader(text))

    let next () = parser.MoveNext() |> ignore

    let remember (anchor: AnchorName) node =
        if not anchor.IsEmpty then anchors[anchor.Value] <- node
        node

    let rec read path : Node =
        match parser.Current with
        | :? Scalar as s ->
            next ()
            Scalar(s.Value, (s.Style = ScalarStyle.Plain), mark s.Start) |> remember s.Anchor
        | :? AnchorAlias as a ->
            next ()
            match anchors.TryGetValue a.Value.Value with
            | true, node -> node
            | _ -> raise (Malformed(mark a.Start, sprintf "unknown alias *%s" a.Value.Value))
        | :? SequenceStart as s ->
            next ()
            let items = ResizeArray<Node>()
            while not (parser.Current :? SequenceEnd) do
                items.Add(read (sprintf "%s[%d]" path items.Count))
            next ()
            Sequence(List.ofSeq items, mark s.Start) |> remember s.Anchor
        | :? MappingStart as m ->
            next ()
            let entries = ResizeArray<Entry>()
            let seen = Dictionary<string, Position>()
            while not (parser.Current :? MappingEnd) do
                let keyNode = read path
                let key, keyPos =
                    match keyNode with
                    | Scalar(k, _, p) -> k, p
                    | other ->
                        problems.Add { Pos = posOf other; Path = path; Message = "a key must be a plain name" }
                        "", posOf other
                let value = read (childPath path key)
                match seen.TryGetValue key with
                | true, first ->
                    problems.Add
                        { Pos = keyPos
                          Path = childPath path key
                          Message = sprintf "duplicate key '%s' (first given at line %d)" key first.Line }
                | _ ->
                    seen[key] <- keyPos
                    entries.Add { Key = key; KeyPos = keyPos; Value = value }
            next ()
            Mapping(List.ofSeq entries, mark m.Start) |> remember m.Anchor
        | null -> raise (Malformed({ Line = 1; Column = 1 }, "unexpected end of the document"))
        | other -> raise (Malformed(mark other.Start, sprintf "unexpected %s" (other.GetType().Name)))

    try
        next () // StreamStart
        next ()
        if parser.Current :? StreamEnd then
            Ok None
        else
            next () // DocumentStart
            let root = read ""
            next () // DocumentEnd
            match parser.Current with
            | null
            | :? StreamEnd -> ()
            | extra ->
                problems.Add
                    { Pos = mark extra.Start
                      Path = ""
                      Message = "a spec file holds one YAML document; remove the second '---'" }
            if problems.Count = 0 then Ok(Some root) else Error(List.ofSeq problems)
    with
    | :? YamlException as e ->
        problems.Add
            { Pos = mark e.Start
              Path = ""
              Message = sprintf "YAML syntax: %s" (bare e.Message) }
        Error(List.ofSeq problems)
    | Malformed(pos, message) ->
        problems.Add { Pos = pos; Path = ""; Message = sprintf "YAML syntax: %s" message }
        Error(List.ofSeq problems)
