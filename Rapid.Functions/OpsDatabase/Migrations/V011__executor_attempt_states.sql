-- The local executor reports by job, not by job list entry (it runs the attempt its run just planned; a plan above the
-- array limit records its attempts on the chunks' lists while the executor runs the whole list): one function updates an
-- attempt's figures and state for Batch's events (by job list entry) and the executor (by job: its latest attempt). And a
-- resubmission or a retry by Batch reads what the attempt it follows read, so its products' provenance is recorded too.

-- What Batch (a job state-change event) or the local executor reports about attempt p_attempt of job p_jid: the
-- attempt's figures (times and ids it did not have; the exit code and reason given) and its state.
create function record_attempt_state(p_jid bigint, p_attempt integer, p_state text, p_at timestamptz, p_source text, p_detail text,
                                     p_submitted timestamptz, p_started timestamptz, p_stopped timestamptz, p_batchjobid text,
                                     p_jobqueue text, p_exit integer, p_reason text, p_logstream text, p_containerinstance text,
                                     p_host text) returns void
language plpgsql as $$
begin
  update jobattempts set submitted = coalesce(submitted, p_submitted), started = coalesce(started, p_started),
    ended = coalesce(ended, p_stopped), batchjobid = coalesce(batchjobid, p_batchjobid), jobqueue = coalesce(jobqueue, p_jobqueue),
    processexit = coalesce(p_exit, processexit), batchreason = coalesce(p_reason, batchreason), logstream = coalesce(p_logstream, logstream),
    containerinstance = coalesce(p_containerinstance, containerinstance), host = coalesce(host, p_host)
  where jid = p_jid and attempt = p_attempt;
  perform record_job_state(p_jid, p_attempt, p_state, p_at, p_source, p_detail);
end $$;

-- The same about entry p_index of job list p_joblist, run as Batch attempt p_batch_attempt (what a Batch event names).
-- False when no attempt ran that entry (not a job of Rapid's plans).
create or replace function record_batch_state(p_joblist text, p_index integer, p_batch_attempt integer, p_state text, p_at timestamptz,
                                              p_source text, p_detail text, p_submitted timestamptz, p_started timestamptz,
                                              p_stopped timestamptz, p_batchjobid text, p_jobqueue text, p_exit integer, p_reason text,
                                              p_logstream text, p_containerinstance text, p_host text) returns boolean
language plpgsql as $$
declare
  a record;
begin
  select o_jid, o_attempt into a from list_attempt(p_joblist, p_index, p_batch_attempt);
  if a.o_jid is null then return false; end if;
  perform record_attempt_state(a.o_jid, a.o_attempt, p_state, p_at, p_source, p_detail, p_submitted, p_started, p_stopped,
                               p_batchjobid, p_jobqueue, p_exit, p_reason, p_logstream, p_containerinstance, p_host);
  return true;
end $$;

-- The same about job p_jid's latest attempt (what the local executor names). False when the job has no attempt.
create function record_latest_attempt_state(p_jid bigint, p_state text, p_at timestamptz, p_source text, p_detail text,
                                            p_submitted timestamptz, p_started timestamptz, p_stopped timestamptz, p_batchjobid text,
                                            p_jobqueue text, p_exit integer, p_reason text, p_logstream text,
                                            p_containerinstance text, p_host text) returns boolean
language plpgsql as $$
declare
  n integer;
begin
  select attempt into n from jobattempts where jid = p_jid order by attempt desc limit 1 for update;
  if not found then return false; end if;
  perform record_attempt_state(p_jid, n, p_state, p_at, p_source, p_detail, p_submitted, p_started, p_stopped,
                               p_batchjobid, p_jobqueue, p_exit, p_reason, p_logstream, p_containerinstance, p_host);
  return true;
end $$;

-- A resubmission or a retry by Batch runs the same config as the attempt it follows, so it reads the same files (OPM
-- used): copied, so that what its products derive from is recorded like a planned attempt's.
create function copy_attempt_inputs(p_jid bigint, p_from integer, p_to integer) returns void language sql as $$
  insert into fileused (jid, attempt, fileid, role)
  select p_jid, p_to, u.fileid, u.role from fileused u where u.jid = p_jid and u.attempt = p_from
  on conflict do nothing
$$;

create or replace function batch_retry_attempt(s jobattempts, p_batch_attempt integer) returns integer language plpgsql as $$
declare
  n integer;
begin
  insert into jobattempts (jid, attempt, runid, trigger, joblist, arrayindex, batchattempt, state, planned, submitted)
  select s.jid, max(x.attempt) + 1, s.runid, 'batch_retry', s.joblist, s.arrayindex, p_batch_attempt, 'planned', s.planned, s.submitted
  from jobattempts x where x.jid = s.jid
  returning attempt into n;
  perform copy_attempt_inputs(s.jid, s.attempt, n);
  return n;
end $$;

create or replace function begin_attempts(p_runid bigint, p_trigger text, p_jids bigint[], p_joblists text[], p_indexes integer[])
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
    insert into jobstates (jid, attempt, state, at, source) select jid, attempt, 'planned', planned, 'planner' from made),
  inputs as (
    -- A resubmission runs its config unchanged: the files the attempt before it read. (A plan records its own.)
    insert into fileused (jid, attempt, fileid, role)
    select m.jid, m.attempt, u.fileid, u.role from made m join fileused u on u.jid = m.jid and u.attempt = m.attempt - 1
    where p_trigger = 'resubmit'
    on conflict do nothing)
  select jid, attempt from made;
end $$;
