-- Jobs users submit (rapid serve's POST /api/v1/jobs; Rapid.Core.Jobs.JobTypes declares the types and their inputs): the
-- submission is validated before this row is written, so a row is a runnable request. The executor takes queued rows in
-- order (for update skip locked), runs them through the engine, and records the pipeline job it ran (jid) and how it ended.
create table submissions (
  subid bigserial primary key,
  jobtype text not null check (jobtype in ('reference', 'science', 'postprocessing', 'nightrecovery', 'diff')),
  inputs jsonb not null,
  tag text check (tag ~ '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$'),
  state text not null default 'queued' check (state in ('queued', 'running', 'succeeded', 'failed')),
  procdate date,
  jid bigint references jobs,                   -- the pipeline job the submission ran (its science job for science)
  exitcode integer,
  reason text,
  outdir text,                                  -- diff: where its products were written
  software text,                                -- the Rapid that ran it (version and commit)
  submitted timestamptz not null default now(),
  started timestamptz,
  ended timestamptz,
  check (state not in ('succeeded', 'failed') or ended is not null)
);
create index submissions_queued on submissions (subid) where state = 'queued';
