-- Santoro et al. (2016), Table 2 (five-character string labels at 5 and 15 classes), and the
-- public reimplementations' numbers, beside Table 1 (../shared/paper/santoro2016.yaml). Each row
-- says where it comes from, which table and setting it is, and which of the paper's models.

drop view if exists mannlab.paper_comparison;

-- source: 'paper', or a public reimplementation (e.g. snowkylin_ntm_tensorflow).
-- classes and labels: the setting (Table 1: 5, one-hot; Table 2: 5 or 15, string).
-- provenance: how the number is known. Table 2 comes from one transcription of the paper, so its
-- rows are 'as transcribed'; a reimplementation's number read off its plot says so.
alter table mannlab.paper_results add column if not exists source text not null default 'paper';
alter table mannlab.paper_results add column if not exists classes int not null default 5;
alter table mannlab.paper_results add column if not exists labels text not null default 'one-hot';
alter table mannlab.paper_results add column if not exists provenance text not null default 'published';
-- The defaults stood for Table 1's rows, which were here before the columns; new rows state them.
alter table mannlab.paper_results alter column source drop default, alter column classes drop default,
    alter column labels drop default, alter column provenance drop default;
alter table mannlab.paper_results drop constraint if exists paper_results_pkey;
alter table mannlab.paper_results add primary key (source, paper_table, classes, model, instance);

insert into mannlab.paper_results (source, paper_table, classes, labels, model, instance, accuracy, provenance)
select m.source, m.paper_table, m.classes, m.labels, m.model, i.instance, m.values[i.k] / 100.0, m.provenance
from (values
    ('paper', 'table2', 5, 'string', 'knn_raw_pixels',                  array[4.0, 36.7, 41.9, 45.7, 48.1, 57.0], 'as transcribed'),
    ('paper', 'table2', 5, 'string', 'knn_deep_features',               array[4.0, 51.9, 61.0, 66.3, 69.3, 77.5], 'as transcribed'),
    ('paper', 'table2', 5, 'string', 'feedforward',                     array[0.0, 0.2, 0.0, 0.2, 0.0, 0.0], 'as transcribed'),
    ('paper', 'table2', 5, 'string', 'lstm',                            array[0.0, 9.0, 14.2, 16.9, 21.8, 25.5], 'as transcribed'),
    ('paper', 'table2', 5, 'string', 'mann_feedforward_controller',     array[0.0, 8.0, 16.2, 25.2, 30.9, 46.8], 'as transcribed'),
    ('paper', 'table2', 5, 'string', 'mann_lstm_controller',            array[0.0, 69.5, 80.4, 87.9, 88.4, 93.1], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'knn_raw_pixels',                 array[0.5, 18.7, 23.3, 26.5, 29.1, 37.0], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'knn_deep_features',              array[0.4, 32.7, 41.2, 47.1, 50.6, 60.0], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'feedforward',                    array[0.0, 0.1, 0.0, 0.0, 0.0, 0.0], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'lstm',                           array[0.0, 2.2, 2.9, 4.3, 5.6, 12.7], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'mann_feedforward_controller',    array[0.1, 12.8, 22.3, 28.8, 32.2, 43.4], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'mann_lstm_controller',           array[0.1, 62.6, 79.3, 86.6, 88.7, 95.3], 'as transcribed'),
    ('paper', 'table2', 15, 'string', 'mann_ntm_access_lstm_controller', array[0.0, 35.4, 61.2, 71.7, 77.7, 88.4], 'as transcribed'),
    -- 5 classes, one-hot, 100,000 iterations of 16 episodes (1.6 million episodes).
    ('snowkylin_ntm_tensorflow', 'table1', 5, 'one-hot', 'mann',  array[35.6, 88.8, 95.0, 96.5, 97.3, 97.6], 'published'),
    ('snowkylin_ntm_tensorflow', 'table1', 5, 'one-hot', 'lstm',  array[23.3, 59.0, 65.8, 68.1, 70.8, 72.3], 'published'),
    ('leputa_mann_meta_learning', 'table1', 5, 'one-hot', 'mann', array[35.4, 89.2, 95.2, 96.3, 96.9, 97.8], 'published'),
    ('leputa_mann_meta_learning', 'table1', 5, 'one-hot', 'lstm', array[30.4, 77.9, 85.3, 87.5, 88.8, 91.6], 'published')
) as m (source, paper_table, classes, labels, model, values, provenance)
cross join (values (1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10)) as i (k, instance)
on conflict do nothing;

-- snowkylin's 15-class string-label MANN, read from its plot: the only public Table 2 number known.
insert into mannlab.paper_results (source, paper_table, classes, labels, model, instance, accuracy, provenance)
values ('snowkylin_ntm_tensorflow', 'table2', 15, 'string', 'mann_lstm_controller', 2, 0.35, 'read from its plot'),
       ('snowkylin_ntm_tensorflow', 'table2', 15, 'string', 'mann_lstm_controller', 10, 0.60, 'read from its plot')
on conflict do nothing;

-- Which of the paper's tables a run's setting is (null: none): Omniglot with 5 classes and one-hot
-- labels is Table 1; with string labels at 5 or 15 classes, Table 2.
create or replace function mannlab.paper_table(spec jsonb) returns text language sql immutable as $$
    select case when spec #>> '{dataset,source}' <> 'omniglot' then null
                when (spec #>> '{task,classes}')::int = 5 and spec #>> '{task,labels}' = 'one-hot' then 'table1'
                when (spec #>> '{task,classes}')::int in (5, 15) and spec #>> '{task,labels}' = 'string' then 'table2' end
$$;

-- Which of the paper's models a run is, in its table's words (null: none of them, or no table). Table 1's
-- MANN is the LSTM controller with LRUA access; Table 2 names the controller and the access.
create or replace function mannlab.paper_model(spec jsonb) returns text language sql immutable as $$
    select case when mannlab.paper_table(spec) is null then null
        else case spec #>> '{model,kind}'
        when 'feedforward' then 'feedforward'
        when 'lstm' then 'lstm'
        when 'mann' then
            case when mannlab.paper_table(spec) = 'table1' then
                     case when spec #>> '{model,controller}' = 'lstm' and spec #>> '{model,access}' = 'lrua' then 'mann' end
                 else case (spec #>> '{model,controller}') || '/' || (spec #>> '{model,access}')
                          when 'lstm/lrua' then 'mann_lstm_controller'
                          when 'feedforward/lrua' then 'mann_feedforward_controller'
                          when 'lstm/ntm' then 'mann_ntm_access_lstm_controller' end end
        end end
$$;

-- How a MANN's memory differs from the paper's, in words ('' for the paper's own): MannLab's
-- extensions, and for Table 2 a usage decay other than the transcription's 0.99. Runs that differ
-- so are rows of their own in the comparison, never averaged with the paper-exact ones.
create or replace function mannlab.paper_variant(spec jsonb) returns text language sql immutable as $$
    select concat_ws(', ',
        case when spec #>> '{model,lrua,least_used}' = 'per-head' then 'per-head rule' end,
        case when spec #>> '{model,lrua,key_strength}' = 'learned' then 'learned key strength' end,
        case when spec #>> '{model,lrua,write}' = 'add-vector' then 'add vector' end,
        case when mannlab.paper_table(spec) = 'table2' and (spec #>> '{model,lrua,gamma}')::double precision <> 0.99
             then 'gamma ' || (spec #>> '{model,lrua,gamma}') end)
$$;

-- Final held-out accuracy by experiment, model, variant and instance: mean and 95% interval over
-- runs that differ in their seed alone (trained_spec: the spec less its seed; other sweep points
-- are rows of their own), beside the paper's number (and how it is known) where the setting is
-- one of the paper's, and the best public reimplementation's number where one is known.
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
       best.source as reimplementation, best.accuracy as reimplementation_accuracy, g.trained_spec, g.run_ids
from grouped g
left join mannlab.paper_results p
       on p.source = 'paper' and p.paper_table = g.paper_table and p.classes = g.classes and p.model = g.paper_model and p.instance = g.instance
left join lateral (
    select b.source, b.accuracy from mannlab.paper_results b
    where b.source <> 'paper' and b.paper_table = g.paper_table and b.classes = g.classes and b.model = g.paper_model and b.instance = g.instance
    order by b.accuracy desc limit 1
) best on true;
