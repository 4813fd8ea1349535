/// The canonical form of a resolved spec: JSON with the spec language's own keys, every default
/// written out (but see Schema.written), in the order of Schema.fields. It is stored (jsonb),
/// shown, hashed for run ids, and, being YAML too, parses back into the same spec.
module MannLab.Spec.Canonical

open System.IO
open System.Security.Cryptography
open System.Text
open System.Text.Json

/// Writes the table's fields in order, each with the value `valueOf` gives (None: it does not
/// apply) where `keep` says so, opening and closing the sections their paths name: each
/// section's keys stand together in the table, so no section opens twice.
let private write (w: Utf8JsonWriter) keep (valueOf: Schema.Field -> Schema.Value option) =
    let put (key: string) value =
        match value with
        | Schema.Int i -> w.WriteNumber(key, i)
        | Schema.Number v -> w.WriteNumber(key, v)
        | Schema.Bool b -> w.WriteBoolean(key, b)
        | Schema.Text t -> w.WriteString(key, t)
        | Schema.Null -> w.WriteNull key
        | Schema.Ints items ->
            w.WriteStartArray key
            for i in items do
                w.WriteNumberValue i
            w.WriteEndArray()
        | Schema.Texts items ->
            w.WriteStartArray key
            for t in items do
                w.WriteStringValue t
            w.WriteEndArray()

    let rec shared (a: string list) (b: string list) =
        match a, b with
        | x :: a', y :: b' when x = y -> 1 + shared a' b'
        | _ -> 0

    // Moves from the open sections to those `sections` names, and returns them.
    let enter (opened: string list) (sections: string list) =
        let common = shared opened sections
        for _ in common .. opened.Length - 1 do
            w.WriteEndObject()
        for s in List.skip common sections do
            w.WriteStartObject s
        sections

    w.WriteStartObject()
    let opened =
        Schema.fields
        |> List.fold
            (fun opened field ->
                match valueOf field with
                | Some v when keep field v ->
                    let segments = List.ofArray (field.Path.Split '.')
                    let sections = List.take (segments.Length - 1) segments
                    let now = enter opened sections
                    put (List.last segments) v
                    now
                | _ -> opened)
            []
    enter opened [] |> ignore
    w.WriteEndObject()

let private json keep (valueOf: Schema.Field -> Schema.Value option) =
    use stream = new MemoryStream()
    (use w = new Utf8JsonWriter(stream)
     write w keep valueOf)
    Encoding.UTF8.GetString(stream.ToArray())

/// Compact canonical JSON: the form that is hashed and stored.
let toJson (s: Spec) = json Schema.written (fun f -> f.Of s)

/// Every key that applies, later keys at their defaults too: what a spec means, for showing a
/// value the canonical form leaves out (a sweep point's `training.schedule: constant`).
let toFullJson (s: Spec) = json (fun _ _ -> true) (fun f -> f.Of s)

let sha256 (text: string) =
    SHA256.HashData(Encoding.UTF8.GetBytes text) |> Array.map (fun b -> b.ToString "x2") |> String.concat ""

/// A run's id: the first 12 hex digits of the SHA-256 of its canonical spec, with the keys that
/// only describe or schedule a run at their defaults. The same resolved spec always gives the
/// same id; any change to what is trained gives a new one. The policy that keeps ids stable is
/// stated at Schema.written.
let runId (s: Spec) =
    let trained (f: Schema.Field) = if f.Trained then f.Of s else f.Plain
    (sha256 (json Schema.written trained)).Substring(0, 12)
