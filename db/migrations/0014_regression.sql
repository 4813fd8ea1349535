-- A regression (task.kind: regression) is scored at every step of its held-out episodes, with each
-- evaluation: the model's negative log-likelihood of y_t and the squared error of its mean
-- (metrics eval_nll_step_<t>, eval_se_step_<t>), and the exact GP posterior's on the same points
-- in the same order (gp_nll_step_<t>, gp_se_step_<t>). This view puts them in rows: one per run,
-- evaluation, predictor ('model' or 'gp') and step t (1 = the prediction before any point is seen).
create or replace view mannlab.regression_steps as
with scores as (
    select m.run_id, m.step as episodes,
           case when m.name like 'gp\_%' then 'gp' else 'model' end as predictor,
           (regexp_match(m.name, '_step_([0-9]+)$'))[1]::int as step,
           case when m.name like '%\_nll\_step\_%' then 'nll' else 'squared_error' end as score,
           m.value
    from mannlab.metrics m
    where m.name ~ '^(eval|gp)_(nll|se)_step_[0-9]+$'
)
select r.id as run_id, r.name, r.model, r.point, r.seed,
       (r.spec #>> '{task,regression,dimensions}')::int as dimensions,
       s.episodes, s.predictor, s.step,
       max(s.value) filter (where s.score = 'nll') as nll,
       max(s.value) filter (where s.score = 'squared_error') as squared_error,
       s.episodes = max(s.episodes) over (partition by r.id) as final
from mannlab.runs r
join scores s on s.run_id = r.id
where r.spec #>> '{task,kind}' = 'regression'
group by r.id, s.episodes, s.predictor, s.step;

-- The dashboards' role reads the new view (as in 0011).
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'mannlab_reader') then
        grant select on mannlab.regression_steps to mannlab_reader;
    end if;
exception when insufficient_privilege then
    null;
end $$;

-- A 1-D regression's predictions at each checkpoint, on held-out episode 0 after its first `seen`
-- points: a grid of inputs with the model's predictive mean and variance, the GP posterior's and
-- the function itself, and the points seen (MannLab.Runs.RegressionBands as JSON). The run page
-- and `mannlab plot bands` draw them.
create table if not exists mannlab.regression_bands (
    run_id  text not null references mannlab.runs (id) on delete cascade,
    step    bigint not null,             -- episodes trained at the checkpoint
    seen    int not null,
    bands   jsonb not null,
    primary key (run_id, step, seen)
);
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'mannlab_reader') then
        grant select on mannlab.regression_bands to mannlab_reader;
    end if;
exception when insufficient_privilege then
    null;
end $$;
