-- How an attempt ended is one of a closed set (MannLab.Runs.AttemptOutcome, kept equal to this
-- check by a test), as a run's status is: a misspelt outcome would silently escape the crash count.
alter table mannlab.run_attempts drop constraint if exists run_attempts_outcome_check;
alter table mannlab.run_attempts add constraint run_attempts_outcome_check
    check (outcome in ('succeeded', 'failed', 'cancelled', 'interrupted', 'crashed', 'lost'));
