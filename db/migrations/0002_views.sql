-- The common comparisons, one SELECT each.

-- Each run's final held-out per-instance accuracy (its last evaluation).
create or replace view mannlab.final_instance_accuracy as
select r.id as run_id, r.name, r.model, r.point, r.seed, ia.split, ia.step, ia.instance,
       ia.correct, ia.total, ia.correct::double precision / nullif(ia.total, 0) as accuracy
from mannlab.runs r
join mannlab.instance_accuracy ia on ia.run_id = r.id
where r.status = 'succeeded'
  and ia.step = (select max(step) from mannlab.instance_accuracy x where x.run_id = r.id and x.split = ia.split);

-- Final per-instance accuracy by experiment and model, averaged over seeds (and other sweep
-- axes), with the spread across runs.
create or replace view mannlab.accuracy_by_model as
select name, model, split, instance, count(*) as runs,
       avg(accuracy) as mean_accuracy, stddev_samp(accuracy) as sd_accuracy,
       min(accuracy) as min_accuracy, max(accuracy) as max_accuracy
from mannlab.final_instance_accuracy
group by name, model, split, instance;

-- Learning curves: every evaluation of every run, by instance.
create or replace view mannlab.learning_curves as
select r.id as run_id, r.name, r.model, r.point, ia.step as episodes, ia.instance,
       ia.correct::double precision / nullif(ia.total, 0) as accuracy
from mannlab.runs r
join mannlab.instance_accuracy ia on ia.run_id = r.id
where ia.split = 'test';

-- Sweep results: each run's swept values next to its final held-out accuracy at each instance.
create or replace view mannlab.sweep_results as
select f.name, f.run_id, f.point, f.model, f.instance, f.accuracy
from mannlab.final_instance_accuracy f
where f.split = 'test';
