-- Schema-3 manifests (one typed outcome per pipeline, a common envelope) and registration that is idempotent across
-- stages: what registration keeps of the envelope, the manifest each job was closed with, and which products
-- post-processing has stamped.

-- What the job's registered manifest said about how it ran. manifest_sha256 identifies the manifest a closed job was
-- registered from: the same manifest again changes nothing (an SQS redelivery, a retried Register, an overlap).
alter table jobs
  add column manifest_sha256 text,
  add column cpu_seconds double precision check (cpu_seconds >= 0),
  add column peak_memory_bytes bigint check (peak_memory_bytes >= 0),
  add column software text,
  add column config_sha256 text,               -- SHA-256 of the config the plan wrote (the manifest must name the same)
  add column host text;

-- A job's warnings (exit 32), each with its kind (Rapid.Core.Contracts.JobWarningKind's JSON names).
create table jobwarnings (
  jid bigint not null references jobs on delete cascade,
  seq smallint not null check (seq >= 0),
  kind text not null,
  message text not null,
  primary key (jid, seq)
);
create index jobwarnings_kind on jobwarnings (kind);

-- The post-processing job whose stamped copy a product file now is (null: the job's own, unstamped file).
alter table jobproducts add column stamped_by bigint references jobs;

-- The first statement of every manifest's registration: locks the job row (so two registrations of one job queue
-- here), checks the manifest against the job as planned, and stops the registration (rolling back its whole batch)
-- when there is nothing to do. Raises:
--   RP004 the manifest is not this job's (no such job, another processing date, another key): the job is not touched;
--   RP001 the manifest contradicts its job (ppid, rid, reference, field, filter, parent, the config it ran):
--         registration closes the job as failed (exit 71) instead;
--   RP002 this very manifest is already registered: nothing changes (also after post-processing stamped its products);
--   RP003 the manifest is of a run that started before the job was last planned (a stale or redelivered manifest).
-- Expectations passed as null are not checked (p_check_rfid says whether p_rfid, null included, is).
create function begin_registration(p_jid bigint, p_ppid smallint, p_procdate text, p_manifest text, p_sha text,
                                   p_started timestamptz, p_config_sha text, p_rid bigint, p_check_rfid boolean, p_rfid bigint,
                                   p_field bigint, p_fid smallint, p_parent bigint)
returns void language plpgsql as $$
declare
  j record;
begin
  select ppid, to_char(procdate, 'YYYYMMDD') as procdate, rid, rfid, field, fid, parent_jid, status, manifest_key, manifest_sha256,
         config_sha256, launched
    into j from jobs where jid = p_jid for update;
  if not found then
    raise exception using errcode = 'RP004', message = format('%s: job %s is not in the ops database', p_manifest, p_jid);
  end if;
  if j.procdate <> p_procdate then
    raise exception using errcode = 'RP004', message = format('%s: manifest says procdate %s, job %s is for %s', p_manifest, p_procdate, p_jid, j.procdate);
  end if;
  if j.manifest_key is not null and j.manifest_key <> p_manifest then
    raise exception using errcode = 'RP004', message = format('%s: job %s writes its manifest to %s', p_manifest, p_jid, j.manifest_key);
  end if;
  if j.status = 1 and j.manifest_sha256 = p_sha then
    raise exception using errcode = 'RP002', message = format('%s: already registered', p_manifest);
  end if;
  if j.launched is not null and p_started < j.launched then
    raise exception using errcode = 'RP003', message = format('%s: the manifest is of a run started %s, before job %s was last planned (%s)',
      p_manifest, p_started, p_jid, j.launched);
  end if;
  if j.ppid <> p_ppid then
    raise exception using errcode = 'RP001', message = format('%s: manifest says ppid %s, job %s is ppid %s', p_manifest, p_ppid, p_jid, j.ppid);
  end if;
  if j.config_sha256 is not null and p_config_sha is distinct from j.config_sha256 then
    raise exception using errcode = 'RP001', message = format('%s: configSha256: the job ran config %s, job %s was planned with %s',
      p_manifest, coalesce(p_config_sha, 'none'), p_jid, j.config_sha256);
  end if;
  if p_rid is not null and j.rid is distinct from p_rid then
    raise exception using errcode = 'RP001', message = format('%s: difference image is of rid %s, job %s planned rid %s', p_manifest, p_rid, p_jid, j.rid);
  end if;
  if p_rid is not null and not exists (select 1 from l2filemeta where rid = p_rid) then
    raise exception using errcode = 'RP001', message = format('%s: rid %s is not in the ops database', p_manifest, p_rid);
  end if;
  if p_check_rfid and j.rfid is distinct from p_rfid then
    raise exception using errcode = 'RP001', message = format('%s: difference image is against reference %s, job %s was given %s',
      p_manifest, coalesce(p_rfid::text, 'none'), p_jid, coalesce(j.rfid::text, 'none'));
  end if;
  if p_field is not null and (j.field is distinct from p_field or j.fid is distinct from p_fid) then
    raise exception using errcode = 'RP001', message = format('%s: reference image is for field %s fid %s, job %s planned field %s fid %s',
      p_manifest, p_field, p_fid, p_jid, j.field, j.fid);
  end if;
  if p_parent is not null and j.parent_jid is distinct from p_parent then
    raise exception using errcode = 'RP001', message = format('%s: stamps products of job %s, job %s was planned for job %s',
      p_manifest, p_parent, p_jid, j.parent_jid);
  end if;
end $$;

-- Replaced by begin_registration.
drop function check_manifest_job(bigint, smallint, text, bigint, text);

-- Products post-processing stamped before this migration: their file is under the stamping job's prefix.
update jobproducts p set stamped_by = j.jid
from jobs j
where j.ppid = 17 and j.parent_jid = p.jid and j.status = 1 and j.exitcode between 0 and 63
  and p.filename like '%/' || to_char(j.procdate, 'YYYYMMDD') || '/jid' || j.jid || '/%';
