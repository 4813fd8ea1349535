-- What the dashboards need: the paper's numbers to compare with, a comparison view, and a
-- read-only role for dashboard SQL and analysts.

-- Santoro et al. (2016), Table 1: Omniglot, 5 classes an episode, one-hot labels; per-instance
-- accuracy (%) at the 1st, 2nd, 3rd, 4th, 5th and 10th sight of a class.
create table if not exists mannlab.paper_results (
    paper_table  text not null,
    model        text not null,            -- human | feedforward | lstm | mann
    instance     int not null,
    accuracy     double precision not null, -- a fraction, like MannLab's own accuracies
    primary key (paper_table, model, instance)
);
insert into mannlab.paper_results (paper_table, model, instance, accuracy)
select 'table1', m.model, i.instance, m.values[i.k] / 100.0
from (values ('human',       array[34.5, 57.3, 70.1, 71.8, 81.4, 92.4]),
             ('feedforward', array[24.4, 19.6, 21.1, 19.9, 22.8, 19.5]),
             ('lstm',        array[24.4, 49.5, 55.3, 61.0, 63.6, 62.5]),
             ('mann',        array[36.4, 82.8, 91.0, 92.6, 94.9, 98.1])) as m (model, values)
cross join (values (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10)) as i (k, instance)
on conflict do nothing;

-- The two-sided 95% quantile of Student's t, for intervals over a few seeds.
create or replace function mannlab.t975(df bigint) returns double precision language sql immutable as $$
    select case when df < 1 then null
                when df <= 10 then (array[12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228])[df]
                when df <= 20 then 2.086 + (20 - df) * (2.228 - 2.086) / 10.0
                when df <= 30 then 2.042 + (30 - df) * (2.086 - 2.042) / 10.0
                else 1.96 end
$$;

-- Which of the paper's settings a run's spec matches (null: none).
create or replace function mannlab.paper_table(spec jsonb) returns text language sql immutable as $$
    select case when spec #>> '{dataset,source}' = 'omniglot' and (spec #>> '{task,classes}')::int = 5
                     and spec #>> '{task,labels}' = 'one-hot' then 'table1' end
$$;

-- Final held-out accuracy by experiment, model and instance: mean and 95% interval over runs
-- (seeds), beside the paper's number where the setting is one of the paper's.
create or replace view mannlab.paper_comparison as
with finals as (
    select f.name, f.model, f.instance, f.accuracy, mannlab.paper_table(r.spec) as paper_table
    from mannlab.final_instance_accuracy f join mannlab.runs r on r.id = f.run_id
    where f.split = 'test'
), grouped as (
    select name, model, paper_table, instance, count(*) as runs, avg(accuracy) as mean_accuracy,
           mannlab.t975(count(*) - 1) * stddev_samp(accuracy) / sqrt(count(*)) as ci95
    from finals group by name, model, paper_table, instance
)
select g.name, g.model, g.instance, g.runs, g.mean_accuracy, g.ci95, g.paper_table,
       p.accuracy as paper_accuracy, g.mean_accuracy - p.accuracy as difference
from grouped g
left join mannlab.paper_results p on p.paper_table = g.paper_table and p.model = g.model and p.instance = g.instance;

-- Dashboards and `mannlab db psql --read-only` read as this role: it can select from MannLab's
-- tables and nothing else, every transaction is read-only, and no statement runs past 10 s. On a
-- shared server where MannLab's user may not create roles, the role is left to its administrator.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'mannlab_reader') then
        create role mannlab_reader login;
    end if;
    grant usage on schema mannlab to mannlab_reader;
    grant select on all tables in schema mannlab to mannlab_reader;
    alter default privileges in schema mannlab grant select on tables to mannlab_reader;
    alter role mannlab_reader set default_transaction_read_only = on;
    alter role mannlab_reader set statement_timeout = '10s';
exception when insufficient_privilege then
    raise notice 'mannlab_reader was not created (no CREATEROLE): dashboards fall back to read-only transactions';
end $$;
