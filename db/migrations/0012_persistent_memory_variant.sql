-- A MANN whose memory is never wiped (memory.persistent, the paper's section 4.3) is not the
-- paper's Table 1 or 2 model: it is a variant of its own, a row never averaged with wiped runs.
create or replace function mannlab.paper_variant(spec jsonb) returns text language sql immutable as $$
    select concat_ws(', ',
        case when spec #>> '{model,lrua,least_used}' = 'per-head' then 'per-head rule' end,
        case when spec #>> '{model,lrua,key_strength}' = 'learned' then 'learned key strength' end,
        case when spec #>> '{model,lrua,write}' = 'add-vector' then 'add vector' end,
        case when mannlab.paper_table(spec) = 'table2' and (spec #>> '{model,lrua,gamma}')::double precision <> 0.99
             then 'gamma ' || (spec #>> '{model,lrua,gamma}') end,
        case when (spec #>> '{model,memory,persistent}')::boolean then 'persistent memory' end)
$$;
