-- A failed, cancelled or interrupted run can be retried as a new attempt. The run's attempt count
-- when it was last retried: crashes of earlier attempts no longer count towards the limit after
-- which a crashing run fails.
alter table mannlab.runs add column if not exists retried_at_attempt int not null default 0;
