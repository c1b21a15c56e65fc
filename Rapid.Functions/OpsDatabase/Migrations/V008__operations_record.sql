-- The operations record, after DES's data-management framework: runs grouped by processing tags, every attempt of every
-- job (the jobs row keeps only the latest), a state change at every step of an attempt, a registry of every file a run
-- writes or reads, file provenance in the Open Provenance Model (Moreau et al. 2011, Future Generation Computer Systems
-- 27, 743: used, wasGeneratedBy, wasDerivedFrom) and the matches of reviewed QC log patterns.
-- Jobs never touch the database: the planner records what it planned, the local executor or AWS Batch's job
-- state-change events what ran where and when, registration what each manifest says (its timeline, its files).

-- 1. Runs: one per run of the nightly workflow (a `rapid run`, a state machine execution). A processing tag (DES's
-- proctag) groups runs, e.g. every run of a reprocessing campaign.
create table runs (
  runid bigserial primary key,
  procdate date not null,
  tag text check (tag ~ '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$'),
  startobs timestamptz,
  endobs timestamptz,
  executor text not null check (executor in ('embedded', 'aws')),
  execution text,                               -- AWS: the state machine execution's id (one run per execution)
  host text,                                    -- where the run was driven from (embedded: this machine)
  software text,
  options jsonb not null default '{}',          -- force, resubmission policy, ... as the run was asked
  started timestamptz not null default now(),
  ended timestamptz,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'interrupted')),
  summary jsonb,                                -- counts at the end of the run
  check (ended is null or ended >= started)
);
create unique index runs_execution on runs (execution) where execution is not null;
create index runs_tag on runs (tag, started) where tag is not null;
create index runs_procdate on runs (procdate, started);

-- 2. States of a job attempt, in the order an attempt moves through them. A state recorded again (a redelivered
-- event, a re-registered manifest) changes nothing; an attempt's current state never moves back.
create function job_state_rank(p_state text) returns integer language sql immutable as $$
  select case p_state
    when 'planned' then 1 when 'submitted' then 2 when 'runnable' then 3 when 'starting' then 4 when 'running' then 5
    when 'uploaded' then 6 when 'succeeded' then 7 when 'failed' then 7
    when 'registered' then 8 when 'lost' then 8 when 'rejected' then 8
    when 'postprocessed' then 9 when 'resubmitted' then 10 end
$$;

-- Every attempt of every job (DES's attnum): a plan, a resubmission by the retry policy, a retry by Batch itself.
-- An attempt runs one entry (arrayindex) of one job list (joblist, the Batch job's RAPID_JOB_LIST).
create table jobattempts (
  jid bigint not null references jobs on delete cascade,
  attempt integer not null check (attempt > 0),
  runid bigint references runs,
  trigger text not null check (trigger in ('plan', 'resubmit', 'batch_retry', 'unplanned')),
  joblist text,
  arrayindex integer check (arrayindex >= 0),
  batchattempt integer not null default 1 check (batchattempt between 1 and 10),
  state text not null check (job_state_rank(state) is not null),
  planned timestamptz not null default now(),
  submitted timestamptz,
  started timestamptz,
  ended timestamptz,
  wallseconds double precision check (wallseconds >= 0),
  cpuseconds double precision check (cpuseconds >= 0),
  peakmemorybytes bigint check (peakmemorybytes >= 0),
  host text,
  processors integer,
  computeenv text,
  jobqueue text,
  containerinstance text,                       -- Batch: the ECS container instance (the EC2 host) it ran on
  batchjobid text,
  logstream text,                               -- Batch: the CloudWatch log stream of the container
  processexit integer,                          -- the process's exit code as the executor or Batch saw it
  batchreason text,                             -- the executor's or Batch's reason
  exitcode integer,                             -- the job's exit code (its manifest; 70 and 71 set by registration)
  reason text,
  software text,
  gitcommit text,
  configsha256 text,
  settings jsonb,                               -- the pipeline settings in force
  manifestsha256 text,
  primary key (jid, attempt),
  unique (joblist, arrayindex, batchattempt)
);
create index jobattempts_run on jobattempts (runid);
create index jobattempts_planned on jobattempts (planned);

-- A status update at every state change (DES's task status): planned, submitted, runnable, starting, running,
-- uploaded (products written), succeeded/failed (the process), registered/lost/rejected, postprocessed, resubmitted.
create table jobstates (
  jid bigint not null,
  attempt integer not null,
  state text not null check (job_state_rank(state) is not null),
  at timestamptz not null,
  source text not null check (source in ('planner', 'executor', 'batch', 'manifest', 'registration')),
  detail text,
  primary key (jid, attempt, state),
  foreign key (jid, attempt) references jobattempts on delete cascade
);
create index jobstates_at on jobstates (at);

-- The steps inside an attempt (the manifest's timeline): wall and CPU seconds per step.
create table attemptsteps (
  jid bigint not null,
  attempt integer not null,
  seq smallint not null check (seq >= 0),
  step text not null,
  started timestamptz not null,
  ended timestamptz not null,
  wallseconds double precision not null check (wallseconds >= 0),
  cpuseconds double precision not null check (cpuseconds >= 0),
  primary key (jid, attempt, seq),
  foreign key (jid, attempt) references jobattempts on delete cascade,
  check (ended >= started)
);
create index attemptsteps_step on attemptsteps (step);

create function record_job_state(p_jid bigint, p_attempt integer, p_state text, p_at timestamptz, p_source text, p_detail text default null)
returns void language plpgsql as $$
begin
  insert into jobstates (jid, attempt, state, at, source, detail) values (p_jid, p_attempt, p_state, p_at, p_source, p_detail)
  on conflict (jid, attempt, state) do nothing;
  update jobattempts set state = p_state
  where jid = p_jid and attempt = p_attempt and job_state_rank(p_state) > job_state_rank(state);
end $$;

-- New attempts of planned (or resubmitted) jobs, each numbered after the job's last, with their 'planned' state; a
-- resubmission marks the attempt it follows 'resubmitted'. Returns the attempts made.
create function begin_attempts(p_runid bigint, p_trigger text, p_jids bigint[], p_joblists text[], p_indexes integer[])
returns table (o_jid bigint, o_attempt integer) language plpgsql as $$
begin
  if p_trigger = 'resubmit' then
    perform record_job_state(a.jid, a.attempt, 'resubmitted', now(), 'planner')
    from unnest(p_jids) as u(jid)
    join lateral (select x.jid, x.attempt from jobattempts x where x.jid = u.jid order by x.attempt desc limit 1) a on true;
  end if;
  return query
  with made as (
    insert into jobattempts (jid, attempt, runid, trigger, joblist, arrayindex, state, planned)
    select u.jid, coalesce((select max(x.attempt) from jobattempts x where x.jid = u.jid), 0) + 1, p_runid, p_trigger,
           u.joblist, u.arrayindex, 'planned', now()
    from unnest(p_jids, p_joblists, p_indexes) as u(jid, joblist, arrayindex)
    returning jid, attempt, planned),
  states as (
    insert into jobstates (jid, attempt, state, at, source) select jid, attempt, 'planned', planned, 'planner' from made)
  select jid, attempt from made;
end $$;

-- The attempt a manifest of job p_jid's Batch attempt p_batch_attempt is of: its latest submission's attempt of that
-- Batch attempt, made (a retry by Batch itself of the same submission) when Batch retried; for a job planned before
-- attempts were recorded, a first attempt.
create function job_attempt(p_jid bigint, p_batch_attempt integer) returns integer language plpgsql as $$
declare
  s jobattempts;
  n integer;
begin
  select * into s from jobattempts where jid = p_jid order by attempt desc limit 1 for update;
  if not found then
    insert into jobattempts (jid, attempt, trigger, batchattempt, state, planned)
    select jid, 1, 'unplanned', p_batch_attempt, 'planned', coalesce(launched, created) from jobs where jid = p_jid
    returning attempt into n;
    return n;
  end if;
  if s.batchattempt = p_batch_attempt then return s.attempt; end if;
  select attempt into n from jobattempts
  where jid = p_jid and joblist is not distinct from s.joblist and arrayindex is not distinct from s.arrayindex
    and batchattempt = p_batch_attempt
  order by attempt desc limit 1;
  if found then return n; end if;
  if p_batch_attempt < s.batchattempt then return s.attempt; end if;
  return batch_retry_attempt(s, p_batch_attempt);
end $$;

-- The attempt that ran entry p_index of job list p_joblist as Batch attempt p_batch_attempt (what a Batch state-change
-- event or the local executor reports about); made when Batch retried the entry. Null when no attempt ran that entry.
create function list_attempt(p_joblist text, p_index integer, p_batch_attempt integer, out o_jid bigint, out o_attempt integer)
language plpgsql as $$
declare
  s jobattempts;
begin
  select * into s from jobattempts where joblist = p_joblist and arrayindex = p_index and batchattempt <= p_batch_attempt
  order by batchattempt desc limit 1 for update;
  if not found then return; end if;
  o_jid := s.jid;
  o_attempt := case when s.batchattempt = p_batch_attempt then s.attempt else batch_retry_attempt(s, p_batch_attempt) end;
end $$;

-- A retry by Batch itself of the submission of attempt s: a new attempt numbered after the job's last.
create function batch_retry_attempt(s jobattempts, p_batch_attempt integer) returns integer language sql as $$
  insert into jobattempts (jid, attempt, runid, trigger, joblist, arrayindex, batchattempt, state, planned, submitted)
  select s.jid, max(x.attempt) + 1, s.runid, 'batch_retry', s.joblist, s.arrayindex, p_batch_attempt, 'planned', s.planned, s.submitted
  from jobattempts x where x.jid = s.jid
  returning attempt
$$;

-- What Batch (a job state-change event) or the local executor reports about entry p_index of job list p_joblist, run as
-- Batch attempt p_batch_attempt: the attempt's figures (times and ids it did not have; the exit code and reason given)
-- and its state. False when no attempt ran that entry (not a job of Rapid's plans).
create function record_batch_state(p_joblist text, p_index integer, p_batch_attempt integer, p_state text, p_at timestamptz,
                                   p_source text, p_detail text, p_submitted timestamptz, p_started timestamptz, p_stopped timestamptz,
                                   p_batchjobid text, p_jobqueue text, p_exit integer, p_reason text, p_logstream text,
                                   p_containerinstance text, p_host text) returns boolean
language plpgsql as $$
declare
  a record;
begin
  select o_jid, o_attempt into a from list_attempt(p_joblist, p_index, p_batch_attempt);
  if a.o_jid is null then return false; end if;
  update jobattempts set submitted = coalesce(submitted, p_submitted), started = coalesce(started, p_started),
    ended = coalesce(ended, p_stopped), batchjobid = coalesce(batchjobid, p_batchjobid), jobqueue = coalesce(jobqueue, p_jobqueue),
    processexit = coalesce(p_exit, processexit), batchreason = coalesce(p_reason, batchreason), logstream = coalesce(p_logstream, logstream),
    containerinstance = coalesce(p_containerinstance, containerinstance), host = coalesce(host, p_host)
  where jid = a.o_jid and attempt = a.o_attempt;
  perform record_job_state(a.o_jid, a.o_attempt, p_state, p_at, p_source, p_detail);
  return true;
end $$;

-- A job registration closed without a manifest of its run (p_state 'lost', exit 70) or with a manifest it refused
-- ('rejected', exit 71): its latest attempt gets the exit code, the reason and the state. Returns that attempt.
create function record_closed_attempt(p_jid bigint, p_state text, p_exitcode integer, p_reason text) returns integer
language plpgsql as $$
declare
  n integer;
begin
  select attempt into n from jobattempts where jid = p_jid order by attempt desc limit 1;
  if not found then n := job_attempt(p_jid, 1); end if;
  update jobattempts set exitcode = p_exitcode, reason = p_reason where jid = p_jid and attempt = n;
  perform record_job_state(p_jid, n, p_state, now(), 'registration', p_reason);
  return n;
end $$;

-- 3. The file registry: every file a run writes or reads (DES's file registry): products, logs, manifests, job configs,
-- job lists, reports, and the L2 images jobs read. One row per content of a name: a name written again with other
-- content keeps its old row as 'overwritten'; a file removed (e.g. a superseded product) is 'deleted' with the reason.
-- jid/attempt say which attempt generated it (OPM wasGeneratedBy); runid which run wrote the files no job writes.
create table files (
  fileid bigserial primary key,
  uri text not null check (uri like 's3://%/%'),
  kind text not null check (kind in ('l2', 'product', 'log', 'manifest', 'config', 'joblist', 'report')),
  role text,
  sizebytes bigint check (sizebytes >= 0),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  md5 text,
  jid bigint,
  attempt integer,
  rid bigint references l2files,
  runid bigint references runs,
  created timestamptz not null default now(),
  status text not null default 'kept' check (status in ('kept', 'overwritten', 'deleted')),
  statuschanged timestamptz,
  statusreason text,
  foreign key (jid, attempt) references jobattempts on delete set null,
  check ((jid is null) = (attempt is null))
);
create unique index files_kept on files (uri) where status = 'kept';
create index files_uri on files (uri);
create index files_generated on files (jid, attempt);
create index files_rid on files (rid) where rid is not null;
create index files_run on files (runid) where runid is not null;

-- OPM used: the files an attempt read (role: what for: science, coadd_input, a product role, config, ...).
create table fileused (
  jid bigint not null,
  attempt integer not null,
  fileid bigint not null references files,
  role text not null,
  primary key (jid, attempt, fileid),
  foreign key (jid, attempt) references jobattempts on delete cascade
);
create index fileused_file on fileused (fileid);

-- OPM wasDerivedFrom: which file a product was made from (a difference image from its science image and reference,
-- a reference from the L2 images actually co-added, a stamped copy from the product it stamped).
create table filederived (
  child bigint not null references files,
  parent bigint not null references files,
  primary key (child, parent),
  check (child <> parent)
);
create index filederived_parent on filederived (parent);

-- Records the content of a name: the kept row when it has the same content (what it lacked filled in), else a new
-- kept row, the old one marked overwritten. Content is the same when the SHA-256 agrees, or, where one side has no
-- SHA-256 (an L2 image is registered with its MD5 only), the MD5; a name recorded without digests takes the kept row.
create function record_file(p_uri text, p_kind text, p_role text, p_size bigint, p_sha256 text, p_md5 text,
                            p_jid bigint, p_attempt integer, p_rid bigint, p_runid bigint) returns bigint
language plpgsql as $$
declare
  f files;
  id bigint;
begin
  loop
    select * into f from files where uri = p_uri and status = 'kept' for update;
    if found then
      if (p_sha256 is null and p_md5 is null)
         or (p_sha256 is not null and f.sha256 is not null and p_sha256 = f.sha256)
         or ((p_sha256 is null or f.sha256 is null) and p_md5 is not null and f.md5 is not null and p_md5 = f.md5)
         or (f.sha256 is null and f.md5 is null) then
        update files set sizebytes = coalesce(p_size, sizebytes), sha256 = coalesce(p_sha256, sha256), md5 = coalesce(p_md5, md5),
          role = coalesce(role, p_role), jid = coalesce(jid, p_jid), attempt = coalesce(attempt, p_attempt),
          rid = coalesce(rid, p_rid), runid = coalesce(runid, p_runid)
        where fileid = f.fileid;
        return f.fileid;
      end if;
      update files set status = 'overwritten', statuschanged = now(), statusreason = 'written again with other content'
      where fileid = f.fileid;
    end if;
    insert into files (uri, kind, role, sizebytes, sha256, md5, jid, attempt, rid, runid)
    values (p_uri, p_kind, p_role, p_size, p_sha256, p_md5, p_jid, p_attempt, p_rid, p_runid)
    on conflict (uri) where status = 'kept' do nothing
    returning fileid into id;
    if id is not null then return id; end if;
    -- Another transaction recorded the name meanwhile: compare with its row.
  end loop;
end $$;

-- Marks files removed from the store (kept → deleted, with why). Returns how many it marked.
create function record_files_deleted(p_uris text[], p_reason text) returns integer language sql as $$
  with d as (
    update files set status = 'deleted', statuschanged = now(), statusreason = p_reason
    where uri = any(p_uris) and status = 'kept' returning 1)
  select count(*)::integer from d
$$;

-- 4. QC: named regular expressions with a severity (a reviewed file in the repository), matched against every job log
-- at registration. A pattern row is the pattern as it was when it matched (a changed pattern is a new row).
create table qcpatterns (
  patternid serial primary key,
  name text not null,
  severity text not null check (severity in ('info', 'warning', 'error')),
  regex text not null,
  description text not null,
  unique (name, severity, regex)
);

create function qc_severity_rank(p_severity text) returns integer language sql immutable as $$
  select case p_severity when 'info' then 1 when 'warning' then 2 when 'error' then 3 end
$$;

create table qcmatches (
  jid bigint not null,
  attempt integer not null,
  fileid bigint not null references files,      -- the log the line is in
  line integer not null check (line > 0),
  patternid integer not null references qcpatterns,
  text text not null,
  primary key (jid, attempt, line, patternid),
  foreign key (jid, attempt) references jobattempts on delete cascade
);
create index qcmatches_pattern on qcmatches (patternid);

-- 5. Views for people and reports.
-- Every attempt with its job's pipeline and processing date, its run's tag, and its queue wait (submitted → started).
create view attempts as
select a.jid, a.attempt, j.ppid, j.procdate, a.runid, r.tag, a.trigger, a.state, a.planned, a.submitted, a.started, a.ended,
       extract(epoch from a.started - a.submitted) as queueseconds, a.wallseconds, a.cpuseconds, a.peakmemorybytes,
       a.host, a.processors, a.computeenv, a.jobqueue, a.containerinstance, a.batchjobid, a.batchattempt, a.logstream,
       a.processexit, a.batchreason, a.exitcode, a.reason, a.software, a.gitcommit, a.configsha256, a.settings, a.manifestsha256,
       a.joblist, a.arrayindex
from jobattempts a join jobs j on j.jid = a.jid left join runs r on r.runid = a.runid;

-- An attempt's whole timeline: its state changes and, between running and uploaded, its steps.
create view jobtimeline as
select jid, attempt, at, state, null::text as step, source, detail from jobstates
union all
select jid, attempt, started, 'step', step, 'manifest',
       format('%s s wall, %s s CPU', round(wallseconds::numeric, 3), round(cpuseconds::numeric, 3))
from attemptsteps;

-- Every QC match with its pattern, job and attempt.
create view qclog as
select m.jid, m.attempt, j.ppid, j.procdate, p.name as pattern, p.severity, m.line, m.text, f.uri as log, p.description
from qcmatches m join qcpatterns p on p.patternid = m.patternid join jobs j on j.jid = m.jid join files f on f.fileid = m.fileid;
