-- The run (runs.runid) a submission ran in: the pipeline jobs it made are the ones whose attempts name that run (a
-- postprocessing submission runs one job per parent, a science submission a reference too when its tile had none), so
-- GET /api/v1/jobs/{id} lists them all with their products, not only the one in submissions.jid.
alter table submissions add column runid bigint references runs;
