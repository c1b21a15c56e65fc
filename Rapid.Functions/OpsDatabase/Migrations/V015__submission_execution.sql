-- AWS: the state machine execution a submission of the job API started (its ARN; runs.execution names the run that
-- execution made), so GET /api/v1/jobs/{id} follows the execution's run: its state, end, jobs and products. A science
-- submission shares its image's prompt execution (the Ingest function's name for it), so both name the same run
-- (runs_execution, V008, makes it one run per execution).
alter table submissions add column execution text;
