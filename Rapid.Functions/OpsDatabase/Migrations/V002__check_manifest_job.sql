-- Checks that a science manifest agrees with the job it claims to be, inside the single-batch
-- registration of the usual science manifest: raising (SQLSTATE RP001) rolls the whole batch back.
-- The messages are the ones the general registration path gives.
create function check_manifest_job(p_jid bigint, p_ppid smallint, p_procdate text, p_rid bigint, p_source text)
returns void language plpgsql as $$
declare
  j record;
begin
  select ppid, to_char(procdate, 'YYYYMMDD') as procdate, rid into j from jobs where jid = p_jid;
  if not found then
    raise exception using errcode = 'RP001', message = format('%s: job %s is not in the ops database', p_source, p_jid);
  end if;
  if j.ppid <> p_ppid then
    raise exception using errcode = 'RP001', message = format('%s: manifest says ppid %s, job %s is ppid %s', p_source, p_ppid, p_jid, j.ppid);
  end if;
  if j.procdate <> p_procdate then
    raise exception using errcode = 'RP001', message = format('%s: manifest says procdate %s, job %s is for %s', p_source, p_procdate, p_jid, j.procdate);
  end if;
  if j.rid is distinct from p_rid then
    raise exception using errcode = 'RP001', message = format('%s: difference image is of rid %s, job %s planned rid %s', p_source, p_rid, p_jid, j.rid);
  end if;
  if not exists (select 1 from l2filemeta where rid = p_rid) then
    raise exception using errcode = 'RP001', message = format('%s: rid %s is not in the ops database', p_source, p_rid);
  end if;
end $$;
