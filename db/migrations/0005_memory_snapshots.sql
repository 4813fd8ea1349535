-- A MANN's memory at work, drawn at every checkpoint: read, write and usage weights over one fixed
-- held-out episode (the first evaluation episode), as a PNG. The run page shows them in order.
create table if not exists mannlab.memory_snapshots (
    run_id  text not null references mannlab.runs (id) on delete cascade,
    step    bigint not null,             -- episodes trained at the checkpoint
    png     bytea not null,
    primary key (run_id, step)
);
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'mannlab_reader') then
        grant select on mannlab.memory_snapshots to mannlab_reader;
    end if;
exception when insufficient_privilege then
    null;
end $$;
