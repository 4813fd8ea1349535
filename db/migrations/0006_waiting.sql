-- A run whose dataset is missing waits for it instead of failing (status 'waiting'; the set of
-- statuses is MannLab.Storage.RunStatus), and says why and what supplies the data.
alter table mannlab.runs drop constraint if exists runs_status_check;
alter table mannlab.runs add constraint runs_status_check
    check (status in ('queued', 'waiting', 'running', 'interrupted', 'succeeded', 'failed', 'cancelled'));

alter table mannlab.runs add column if not exists wait_reason text;
