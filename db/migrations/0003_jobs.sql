-- The job system: every attempt at a run, and what the queue needs to find runs quickly.

-- One row per attempt at training a run: which worker, from which episode, how it ended. A run
-- trained exactly once has one row; a run resumed after a crash has one per resumption.
create table if not exists mannlab.run_attempts (
    run_id        text not null references mannlab.runs (id) on delete cascade,
    attempt       int not null,
    worker        text not null,
    job_id        text,
    from_episode  bigint,
    to_episode    bigint,
    outcome       text,                  -- succeeded | failed | cancelled | interrupted | crashed | lost
    error         text,
    started_at    timestamptz not null default now(),
    finished_at   timestamptz,
    primary key (run_id, attempt)
);

-- Recovery looks for unfinished runs whose lease ran out.
create index if not exists runs_unfinished on mannlab.runs (lease_until) where status in ('queued', 'running', 'interrupted');
-- The dashboards read curves of one run and one metric.
create index if not exists instance_accuracy_split on mannlab.instance_accuracy (run_id, split, step);
