-- Operations (issue 10): continuous coverage of the default schedule, one run per processing date at a
-- time, and L2 ingest at survey scale.

-- 1. Coverage. Every best L2 image waits in l2pending from its registration until a science job is planned
-- for it, so an image registered after the run of its night (late, or observed after that run's cutoff) is
-- still picked up by the next scheduled run. Filled by a trigger: every path that adds L2 files is covered.
create table l2pending (
  rid bigint primary key references l2files on delete cascade,
  dateobs timestamptz not null
);
create index l2pending_dateobs on l2pending (dateobs);

create function l2files_pending() returns trigger language plpgsql as $$
begin
  insert into l2pending (rid, dateobs) select rid, dateobs from added where vbest > 0 on conflict do nothing;
  return null;
end $$;
create trigger l2files_pending after insert on l2files
  referencing new table as added for each statement execute function l2files_pending();

-- What was registered before this migration and never planned is pending too.
insert into l2pending (rid, dateobs)
select l.rid, l.dateobs from l2files l
where l.vbest > 0 and not exists (select 1 from jobs j where j.ppid = 15 and j.rid = l.rid);

-- The windows of the scheduled (default) runs: consecutive, never overlapping (the exclusion constraint),
-- the watermark being the end of the last one. A run that did not finish (completed is null) is resumed by
-- the next scheduled run: same processing date, its window extended to that run's cutoff.
create table nightwindows (
  nwid bigserial primary key,
  procdate date not null,
  startobs timestamptz not null,
  endobs timestamptz not null,
  created timestamptz not null default now(),
  completed timestamptz,
  check (endobs > startobs),
  exclude using gist (tstzrange(startobs, endobs) with &&)
);
create index nightwindows_endobs on nightwindows (endobs);

-- The images a night plans. Explicit window: the best images observed in it. Scheduled run: the pending
-- best images observed before its cutoff (late arrivals included, nothing before the first scheduled
-- window), plus the images its processing date already planned (a resumed run finishes them).
create function night_images(p_start timestamptz, p_end timestamptz, p_procdate date, p_scheduled boolean)
returns table (rid bigint) language sql stable as $$
  select l.rid from l2files l
  where not p_scheduled and l.dateobs >= p_start and l.dateobs < p_end and l.vbest > 0 and l.status > 0
  union
  select l.rid from l2pending p join l2files l on l.rid = p.rid
  where p_scheduled and p.dateobs >= p_start and p.dateobs < p_end and l.vbest > 0 and l.status > 0
  union
  select l.rid from jobs j join l2files l on l.rid = j.rid
  where p_scheduled and j.ppid = 15 and j.procdate = p_procdate and l.vbest > 0 and l.status > 0
$$;

-- 3. One run per processing date. A lease is either bound to its holder's database session (embedded runs:
-- the holder keeps a session advisory lock, which PostgreSQL drops the moment the session ends, however the
-- process ends) or held until it expires (AWS: a state machine execution holds it from ResolveWindow to
-- Summarize, never longer than the execution may last).
create table runleases (
  procdate date primary key,
  holder text not null,
  token uuid not null,
  acquired timestamptz not null default now(),
  expires timestamptz
);

create function run_lease_key(p_procdate date) returns bigint language sql immutable as $$
  select hashtextextended('rapid run lease ' || p_procdate::text, 0)
$$;

-- Takes the lease of a processing date unless a live holder has it. p_ttl null: bound to this session.
-- Returns whether it was taken, and the holder that has it now (this one or the other).
create function take_run_lease(p_procdate date, p_holder text, p_token uuid, p_ttl interval,
                               out o_taken boolean, out o_holder text, out o_acquired timestamptz, out o_expires timestamptz)
language plpgsql as $$
declare
  r runleases;
  live boolean;
begin
  -- Takers of one date queue here, so two first takers cannot both insert.
  perform pg_advisory_xact_lock(hashtextextended('rapid run lease taker ' || p_procdate::text, 0));
  select * into r from runleases where procdate = p_procdate;
  if found and r.token <> p_token then
    if r.expires is not null then
      live := r.expires > now();
    else
      -- A session-bound holder is alive while some session holds the date's lock.
      live := not pg_try_advisory_xact_lock(run_lease_key(p_procdate));
    end if;
    if live then
      o_taken := false; o_holder := r.holder; o_acquired := r.acquired; o_expires := r.expires;
      return;
    end if;
  end if;
  if p_ttl is null and not pg_try_advisory_lock(run_lease_key(p_procdate)) then
    -- Held by a session whose row is gone (released by token, session not yet ended): still a live run.
    o_taken := false; o_holder := coalesce(r.holder, 'another run'); o_acquired := r.acquired; o_expires := null;
    return;
  end if;
  insert into runleases (procdate, holder, token, acquired, expires)
  values (p_procdate, p_holder, p_token, now(), now() + p_ttl)
  on conflict (procdate) do update set holder = excluded.holder, token = excluded.token,
    acquired = excluded.acquired, expires = excluded.expires;
  o_taken := true; o_holder := p_holder; o_acquired := now(); o_expires := now() + p_ttl;
end $$;

-- Ends a lease by its token (a session-bound holder then closes its session, which drops its lock).
create function release_run_lease(p_procdate date, p_token uuid) returns boolean language sql as $$
  with gone as (delete from runleases where procdate = p_procdate and token = p_token returning 1)
  select exists (select 1 from gone)
$$;

-- 10. L2 ingest at survey scale: serialise new versions of an (expid, sca) on the exposure's row lock (kept
-- in the row, not in the shared lock table) instead of one advisory lock per image, which ran the lock table
-- out of memory above ~13,000 images in one transaction with default settings.
create or replace function l2file_slot(p_expid bigint, p_sca smallint, p_checksum text,
                                       out o_rid bigint, out o_version integer, out o_vbest smallint)
language plpgsql as $$
begin
  perform 1 from exposures where expid = p_expid for update;
  select rid, version, vbest into o_rid, o_version, o_vbest from l2files
   where expid = p_expid and sca = p_sca and checksum = p_checksum order by version desc limit 1;
  if found then return; end if;
  o_rid := null;
  select coalesce(max(version), 0) + 1 into o_version from l2files where expid = p_expid and sca = p_sca;
  if exists (select 1 from l2files where expid = p_expid and sca = p_sca and vbest = 2) then
    o_vbest := 0;
  else
    update l2files set vbest = 0 where expid = p_expid and sca = p_sca and vbest = 1;
    o_vbest := 1;
  end if;
end $$;
