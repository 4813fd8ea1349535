/// The paper's own settings for each row of its tables (Santoro et al. 2016, Tables 1 and 2), as
/// specs, and where a run's spec departs from them: a reproduction shows those departures beside
/// the row they affect. Rows and models go by the database's names (mannlab.paper_model).
module MannLab.Spec.PaperTables

/// The task of each table and setting: Table 1 is 5 classes one-hot, Table 2 string labels at 5
/// and 15 classes (the 15-way episodes as long as the shipped table2-15way.yaml's).
let private tasks =
    dict
        [ ("table1", 5), "{classes: 5, instances: 10}"
          ("table2", 5), "{classes: 5, instances: 10, labels: string}"
          ("table2", 15), "{classes: 15, length: 100, labels: string}" ]

/// Each of the paper's models that a spec can train; Table 2's transcription gives its MANNs'
/// usage decay as 0.99.
let private models =
    dict
        [ ("table1", "feedforward"), "{kind: feedforward}"
          ("table1", "lstm"), "{kind: lstm}"
          ("table1", "mann"), "{kind: mann}"
          ("table2", "knn_raw_pixels"), "{kind: knn}"
          ("table2", "knn_deep_features"), "{kind: knn, features: autoencoder}"
          ("table2", "feedforward"), "{kind: feedforward}"
          ("table2", "lstm"), "{kind: lstm}"
          ("table2", "mann_lstm_controller"), "{kind: mann, lrua: {gamma: 0.99}}"
          ("table2", "mann_feedforward_controller"), "{kind: mann, controller: feedforward, lrua: {gamma: 0.99}}"
          ("table2", "mann_ntm_access_lstm_controller"), "{kind: mann, access: ntm}" ]

/// The paper's spec for a row of its table at a setting; None for a row no spec trains (people)
/// or a setting the paper has not.
let reference (table: string) (classes: int) (model: string) : Spec option =
    match tasks.TryGetValue((table, classes)), models.TryGetValue((table, model)) with
    | (true, task), (true, m) ->
        match Experiments.parse "<paper>" (sprintf "name: paper\ntask: %s\nmodel: %s\n" task m) with
        | Ok e -> Some e.Runs.Head.Spec
        | Error errors -> invalidOp (sprintf "the paper's %s %s does not resolve: %A" table model errors)
    | _ -> None

/// Keys that leave what is trained and measured as the paper did it: which seed, how often and on
/// how many held-out episodes a run is evaluated (and at which other class counts, after
/// training), where the data is, and what runs it.
let private bookkeeping =
    set [ "training.seed"; "training.device"; "training.threads"; "dataset.path"; "evaluation.every"
          "evaluation.episodes"; "evaluation.instances"; "evaluation.classes"; "checkpoint.every" ]

/// Each key, in the schema's order, whose value in a run's spec is not the paper's: (path, the
/// run's value, the paper's). A key that applies on one side only (momentum beside Adam) is left
/// out: the key that decides where it applies (the optimizer) differs already. The task's keys
/// are the exception: no key decides its shape (instances, length or length per class) or its
/// curriculum, so there a key set on one side only is a difference, "none" on the other.
/// A kNN is compared on its data, task and model alone: on raw pixels the training keys do nothing,
/// and for the autoencoder the paper gives no optimiser or budget (only that it saw 3x the MANN's
/// data), so MannLab's defaults there would be no statement of the paper's.
let differences (spec: Spec) (paper: Spec) =
    let trainingKey (path: string) = path.StartsWith(Schema.Sections.training.Path + ".")
    let taskKey (path: string) = path.StartsWith(Schema.Sections.task.Path + ".")
    let trainingKnown = match paper.Model with Knn _ -> false | FeedForward _ | Lstm _ | Mann _ -> true
    [ for f in Schema.fields do
          if f.Trained && f.Path <> Schema.name.Path && not (bookkeeping.Contains f.Path)
             && (trainingKnown || not (trainingKey f.Path)) then
              match f.Of spec, f.Of paper with
              | Some ours, Some theirs when ours <> theirs -> yield f.Path, Schema.show ours, Schema.show theirs
              | Some ours, None when taskKey f.Path -> yield f.Path, Schema.show ours, "none"
              | None, Some theirs when taskKey f.Path -> yield f.Path, "none", Schema.show theirs
              | _ -> () ]
