-- The dashboards' role reads the views that 0009 and 0010 made anew: the default privileges of
-- 0004 exist only where its role could be made, so they are not relied on (as in 0005).
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'mannlab_reader') then
        grant select on mannlab.paper_reference, mannlab.paper_comparison to mannlab_reader;
    end if;
exception when insufficient_privilege then
    null;
end $$;

comment on column mannlab.runs.model is 'the model kind: feedforward | lstm | mann | knn';
