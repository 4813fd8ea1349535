-- MannLab's record of experiments, runs and results. Hangfire is only the queue; these tables are
-- the record. Everything lives in the mannlab schema.
create schema if not exists mannlab;

-- One row per distinct version of a spec file: a changed resolved spec is a new row.
create table if not exists mannlab.experiments (
    id          bigserial primary key,
    file        text not null,
    name        text not null,
    yaml        text not null,
    resolved    jsonb not null,          -- {"runs": [resolved spec, ...]} in sweep order
    hash        text not null,           -- changes exactly when some run's resolved spec changes
    created_at  timestamptz not null default now(),
    unique (file, hash)
);

create table if not exists mannlab.runs (
    id               text primary key,   -- the stable run id: a hash of the resolved spec
    experiment_id    bigint not null references mannlab.experiments (id),
    sweep_index      int not null,
    name             text not null,
    model            text not null,      -- feedforward | lstm | mann
    point            jsonb not null default '{}',
    spec             jsonb not null,
    status           text not null default 'queued'
                     check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
    queue            text not null,
    priority         text not null default 'normal',
    attempt          int not null default 0,
    job_id           text,
    -- The lease: the worker training the run, renewed by its heartbeat. A run is trained by one
    -- worker at a time, even if the queue hands it out twice.
    worker           text,
    lease_until      timestamptz,
    heartbeat_at     timestamptz,
    cancel_requested boolean not null default false,
    episodes_done    bigint not null default 0,
    episodes_total   bigint not null,
    created_at       timestamptz not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    error            text,
    -- Reproducibility.
    git_commit       text,
    git_dirty        boolean,
    mannlab_version  text,
    packages         jsonb,
    host             text,
    cpu              text,
    gpu              text,
    threads          int,
    seed             int
);
create index if not exists runs_status on mannlab.runs (status);
create index if not exists runs_experiment on mannlab.runs (experiment_id, sweep_index);
create index if not exists runs_name on mannlab.runs (name);

-- Metrics in long format; writes are idempotent on (run, step, name), so a run that resumes after
-- a crash neither duplicates nor loses values.
create table if not exists mannlab.metrics (
    run_id  text not null references mannlab.runs (id) on delete cascade,
    step    bigint not null,             -- episodes trained
    name    text not null,
    value   double precision,
    primary key (run_id, step, name)
);
create index if not exists metrics_name on mannlab.metrics (name, run_id, step);

create table if not exists mannlab.instance_accuracy (
    run_id    text not null references mannlab.runs (id) on delete cascade,
    step      bigint not null,
    split     text not null,             -- train | test | knn
    instance  int not null,
    correct   bigint not null,
    total     bigint not null,
    primary key (run_id, step, split, instance)
);

create table if not exists mannlab.checkpoints (
    run_id      text primary key references mannlab.runs (id) on delete cascade,
    episode     bigint not null,
    path        text,
    bytes       bytea,
    updated_at  timestamptz not null default now(),
    check (path is not null or bytes is not null)
);

-- The latest value of every metric of every run, kept current as metrics arrive, so that listing
-- runs never scans the metrics table.
create table if not exists mannlab.run_summary (
    run_id      text primary key references mannlab.runs (id) on delete cascade,
    step        bigint not null default 0,
    latest      jsonb not null default '{}',
    updated_at  timestamptz not null default now()
);
