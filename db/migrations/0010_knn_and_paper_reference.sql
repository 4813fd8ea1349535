-- Table 2's kNN rows become runs of their own (model: {kind: knn, features: raw | autoencoder}),
-- and each of the paper's numbers is read with the best public reimplementation's beside it from
-- one view, which the comparison and the reproduction report both use.

drop view if exists mannlab.paper_comparison;

-- Which of the paper's models a run is, in its table's words (null: none of them, or no table). Table 1's
-- MANN is the LSTM controller with LRUA access; Table 2 names the controller and the access, and has
-- the two kNN baselines (a spec with raw features leaves model.features out, as its default).
create or replace function mannlab.paper_model(spec jsonb) returns text language sql immutable as $$
    select case when mannlab.paper_table(spec) is null then null
        else case spec #>> '{model,kind}'
        when 'feedforward' then 'feedforward'
        when 'lstm' then 'lstm'
        when 'knn' then
            case when mannlab.paper_table(spec) = 'table2' then
                case when spec #>> '{model,features}' = 'autoencoder' then 'knn_deep_features' else 'knn_raw_pixels' end end
        when 'mann' then
            case when mannlab.paper_table(spec) = 'table1' then
                     case when spec #>> '{model,controller}' = 'lstm' and spec #>> '{model,access}' = 'lrua' then 'mann' end
                 else case (spec #>> '{model,controller}') || '/' || (spec #>> '{model,access}')
                          when 'lstm/lrua' then 'mann_lstm_controller'
                          when 'feedforward/lrua' then 'mann_feedforward_controller'
                          when 'lstm/ntm' then 'mann_ntm_access_lstm_controller' end end
        end end
$$;

-- The paper's numbers, each with how it is known and the best public reimplementation's number for
-- the same table, setting, model and instance, where one is known.
create view mannlab.paper_reference as
select p.paper_table, p.classes, p.labels, p.model, p.instance, p.accuracy, p.provenance,
       best.source as reimplementation, best.accuracy as reimplementation_accuracy
from mannlab.paper_results p
left join lateral (
    select b.source, b.accuracy from mannlab.paper_results b
    where b.source <> 'paper' and (b.paper_table, b.classes, b.model, b.instance) = (p.paper_table, p.classes, p.model, p.instance)
    order by b.accuracy desc limit 1
) best on true
where p.source = 'paper';

-- As in 0009: final held-out accuracy by experiment, model, variant and instance, mean and 95%
-- interval over runs that differ in their seed alone, beside the paper's number and the best
-- reimplementation's (now from paper_reference).
create view mannlab.paper_comparison as
with finals as (
    select f.run_id, f.name, f.model, f.instance, f.accuracy, mannlab.paper_table(r.spec) as paper_table,
           (r.spec #>> '{task,classes}')::int as classes, mannlab.paper_model(r.spec) as paper_model,
           mannlab.paper_variant(r.spec) as variant, r.spec #- '{training,seed}' as trained_spec
    from mannlab.final_instance_accuracy f join mannlab.runs r on r.id = f.run_id
    where f.split = 'test'
), grouped as (
    select name, model, paper_table, classes, paper_model, variant, trained_spec, instance, count(*) as runs,
           avg(accuracy) as mean_accuracy, mannlab.t975(count(*) - 1) * stddev_samp(accuracy) / sqrt(count(*)) as ci95,
           array_agg(run_id order by run_id) as run_ids
    from finals group by name, model, paper_table, classes, paper_model, variant, trained_spec, instance
)
select g.name, g.model, g.instance, g.runs, g.mean_accuracy, g.ci95, g.paper_table,
       p.accuracy as paper_accuracy, g.mean_accuracy - p.accuracy as difference,
       g.classes, g.paper_model, g.variant, p.provenance,
       p.reimplementation, p.reimplementation_accuracy, g.trained_spec, g.run_ids
from grouped g
left join mannlab.paper_reference p
       on p.paper_table = g.paper_table and p.classes = g.classes and p.model = g.paper_model and p.instance = g.instance;
