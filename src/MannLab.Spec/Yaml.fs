/// YAML text to a node tree in which every node keeps its line and column.
/// YamlDotNet's deserializer loses positions on type errors and zero-fills missing members, so
/// we read its event stream and build our own tree; duplicate keys are found here, for every mapping.
module MannLab.Spec.Yaml

open System
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

/// YamlDotNet gave up with an InvalidOperationException (it does so when a line inside a flow
/// collection is indented less than the collection): where its scanner stood.
exception private Stuck of Mark

let private childPath path key = if path = "" then key else path + "." + key

/// YamlDotNet prefixes messages with "(Line: .., Col: .., Idx: ..) - (...): "; the position is reported separately.
let private bare (message: string) = Regex.Replace(message, @"^\(Line: .*?\) - \(Line: .*?\): ", "")

let private tabInIndentation = "a tab in the indentation: YAML indents with spaces only"

/// The text from `m` on.
let private after (text: string) (m: Mark) = text.Substring(min text.Length (int m.Index))

/// An opening bracket or quote without its closer; `stop` is where reading stopped.
let private unclosed (text: string) (opener: char) (stop: Mark) =
    let closer = match opener with '[' -> ']' | '{' -> '}' | quote -> quote
    let ends = if String.IsNullOrWhiteSpace(after text stop) then "is never closed"
               else sprintf "is not closed before line %d" stop.Line
    let shown c = if c = '\'' then "\"'\"" else sprintf "'%c'" c
    sprintf "%s %s (no matching %s)" (shown opener) ends (shown closer)

/// The first tab in the indentation of the line that holds `m`. YamlDotNet lets some such tabs
/// pass without a word (before the first key of a file, or after spaces), which silently
/// changes the file's structure.
let private tabBefore (text: string) (m: Mark) =
    let lineStart = int m.Index - (int m.Column - 1)
    text
    |> Seq.skip lineStart
    |> Seq.takeWhile (fun c -> c = ' ' || c = '\t')
    |> Seq.tryFindIndex ((=) '\t')
    |> Option.map (fun i -> { Line = int m.Line; Column = i + 1 })

/// `m` is at the end of the document: nothing but white space follows, or a '---' or '...' line starts there.
let private endsDocument (text: string) (m: Mark) =
    let rest = after text m
    String.IsNullOrWhiteSpace rest || (m.Column = 1L && (rest.StartsWith "---" || rest.StartsWith "..."))

/// Where the problem behind a YamlDotNet error is, with what to say about it. A scanner error
/// (SyntaxErrorException) spans from the token being read to where reading stopped, so the
/// problem is at its end, except for a quote that runs on (the problem is the opening quote)
/// and a character that cannot start any token (at its start). YamlDotNet's tab error has no
/// marks at all: it is thrown where the scanner stands. A parser error (SemanticErrorException)
/// is at the token that did not fit.
let private locate (text: string) (scannerAt: Mark) (e: YamlException) : Mark * string =
    let message = bare e.Message
    let has (part: string) = message.Contains part
    let start, stop = if e.Start = Mark.Empty && e.End = Mark.Empty then scannerAt, scannerAt else e.Start, e.End
    match e with
    | :? SyntaxErrorException when has "invalid tab" || has "tab character" -> stop, tabInIndentation
    | :? SyntaxErrorException when has "quoted scalar" && (has "end of stream" || has "wrong indentation" || has "document indicator") ->
        start, unclosed text text[int start.Index] stop
    | :? SyntaxErrorException when has "cannot start any token" -> start, message
    | :? SyntaxErrorException -> stop, message
    | _ -> start, message

/// Parses one YAML document. Ok None for a file with no document at all.
let parse (text: string) : Result<Node option, Problem list> =
    let problems = ResizeArray<Problem>()
    let anchors = Dictionary<string, Node>()
    let scanner = Scanner(new StringReader(text))
    let parser = Parser(scanner)
    // The '[' and '{' that are open, innermost on top: a syntax error at the end of the file,
    // or inside a flow collection that ran into a less-indented line, is that bracket's.
    let openFlows = Stack<char * Mark>()
    // The first tab found in a block line's indentation; it explains any syntax error after it.
    let tab = ref None
    let checkedLine = ref 0L

    let next () =
        try
            parser.MoveNext() |> ignore
        with :? InvalidOperationException ->
            raise (Stuck scanner.CurrentPosition)

    let remember (anchor: AnchorName) node =
        if not anchor.IsEmpty then anchors[anchor.Value] <- node
        node

    // Whether an explicit '[' or '{' opens at `start` (a single-pair mapping inside a flow
    // sequence has none); an open one is kept until it closes.
    let opening (start: Mark) =
        let c = text[int start.Index]
        let bracket = c = '[' || c = '{'
        if bracket then openFlows.Push((c, start))
        bracket

    let closing wasOpened = if wasOpened then openFlows.Pop() |> ignore

    // The first node on a line in block context: the line's indentation is spaces only.
    let checkIndentation (node: ParsingEvent) =
        if tab.Value.IsNone && openFlows.Count = 0 && node.Start.Line > checkedLine.Value then
            checkedLine.Value <- node.Start.Line
            tab.Value <- tabBefore text node.Start

    let rec read path : Node =
        Option.ofObj parser.Current |> Option.iter checkIndentation
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
            let opened = s.Style = SequenceStyle.Flow && opening s.Start
            next ()
            let items = ResizeArray<Node>()
            while not (parser.Current :? SequenceEnd) do
                items.Add(read (sprintf "%s[%d]" path items.Count))
            closing opened // at its ']' or '}', before reading on
            next ()
            Sequence(List.ofSeq items, mark s.Start) |> remember s.Anchor
        | :? MappingStart as m ->
            let opened = m.Style = MappingStyle.Flow && opening m.Start
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
            closing opened // at its ']' or '}', before reading on
            next ()
            Mapping(List.ofSeq entries, mark m.Start) |> remember m.Anchor
        | null -> raise (Malformed({ Line = 1; Column = 1 }, "unexpected end of the document"))
        | other -> raise (Malformed(mark other.Start, sprintf "unexpected %s" (other.GetType().Name)))

    let syntax pos message =
        problems.Add { Pos = pos; Path = ""; Message = "YAML syntax: " + message }
        Error(List.ofSeq problems)

    // The innermost open bracket, reading having stopped at `stop`.
    let unclosedFlow stop =
        let bracket, at = openFlows.Peek()
        syntax (mark at) (unclosed text bracket stop)

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
            match tab.Value with
            | Some at -> syntax at tabInIndentation
            | None -> if problems.Count = 0 then Ok(Some root) else Error(List.ofSeq problems)
    with
    | :? YamlException
    | Stuck _
    | Malformed _ when tab.Value.IsSome -> syntax tab.Value.Value tabInIndentation
    | :? YamlException as e ->
        match locate text scanner.CurrentPosition e with
        | at, _ when openFlows.Count > 0 && endsDocument text at -> unclosedFlow at
        | at, message -> syntax (mark at) message
    | Stuck at when openFlows.Count > 0 -> unclosedFlow at
    | Stuck at -> syntax (mark at) "YamlDotNet cannot read on from here"
    | Malformed(pos, message) -> syntax pos message
