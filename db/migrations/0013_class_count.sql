-- The class count becomes a dimension of instance accuracy: a curriculum (task.curriculum) trains
-- on episodes whose classes grow, and evaluation.classes evaluates the trained model at other
-- class counts. Every row before this was of its run's task.classes.
alter table mannlab.instance_accuracy add column if not exists classes int;
update mannlab.instance_accuracy ia set classes = (r.spec #>> '{task,classes}')::int
from mannlab.runs r where r.id = ia.run_id and ia.classes is null;
alter table mannlab.instance_accuracy
    alter column classes set not null,
    drop constraint instance_accuracy_pkey,
    add primary key (run_id, step, split, classes, instance);

-- The headline stays the task's classes: a run's final held-out accuracy and its learning curves
-- are at task.classes (with a curriculum, the count it grows to). Training rows are at whatever
-- count training was at, one count per step.
create or replace view mannlab.final_instance_accuracy as
select r.id as run_id, r.name, r.model, r.point, r.seed, ia.split, ia.step, ia.instance,
       ia.correct, ia.total, ia.correct::double precision / nullif(ia.total, 0) as accuracy
from mannlab.runs r
join mannlab.instance_accuracy ia on ia.run_id = r.id
where r.status = 'succeeded'
  and (ia.split = 'train' or ia.classes = (r.spec #>> '{task,classes}')::int)
  and ia.step = (select max(step) from mannlab.instance_accuracy x where x.run_id = r.id and x.split = ia.split);

create or replace view mannlab.learning_curves as
select r.id as run_id, r.name, r.model, r.point, ia.step as episodes, ia.instance,
       ia.correct::double precision / nullif(ia.total, 0) as accuracy
from mannlab.runs r
join mannlab.instance_accuracy ia on ia.run_id = r.id
where ia.split = 'test' and ia.classes = (r.spec #>> '{task,classes}')::int;

-- Each succeeded run's final held-out accuracy against the class count, by sight: the task's
-- classes (trained = true) and each count of evaluation.classes, all on held-out classes after
-- training, each count's episodes of the task's shape.
create or replace view mannlab.accuracy_by_classes as
select r.id as run_id, r.name, r.model, r.point, r.seed, ia.classes, ia.instance, ia.step,
       ia.correct, ia.total, ia.correct::double precision / nullif(ia.total, 0) as accuracy,
       ia.classes = (r.spec #>> '{task,classes}')::int as trained
from mannlab.runs r
join mannlab.instance_accuracy ia on ia.run_id = r.id
where r.status = 'succeeded' and ia.split = 'test'
  and ia.step = (select max(step) from mannlab.instance_accuracy x where x.run_id = r.id and x.split = 'test');

-- A curriculum's run trained on fewer classes than it is scored at: a variant of its own.
create or replace function mannlab.paper_variant(spec jsonb) returns text language sql immutable as $$
    select concat_ws(', ',
        case when spec #>> '{model,lrua,least_used}' = 'per-head' then 'per-head rule' end,
        case when spec #>> '{model,lrua,key_strength}' = 'learned' then 'learned key strength' end,
        case when spec #>> '{model,lrua,write}' = 'add-vector' then 'add vector' end,
        case when mannlab.paper_table(spec) = 'table2' and (spec #>> '{model,lrua,gamma}')::double precision <> 0.99
             then 'gamma ' || (spec #>> '{model,lrua,gamma}') end,
        case when (spec #>> '{model,memory,persistent}')::boolean then 'persistent memory' end,
        case when spec #> '{task,curriculum}' is not null then 'curriculum' end)
$$;

-- The dashboards' role reads the new view (as in 0011).
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'mannlab_reader') then
        grant select on mannlab.accuracy_by_classes to mannlab_reader;
    end if;
exception when insufficient_privilege then
    null;
end $$;
