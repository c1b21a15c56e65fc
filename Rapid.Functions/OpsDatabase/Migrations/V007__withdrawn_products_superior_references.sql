-- A job's products are those of its last run. A run that ends without products (an error, a lost job, a rejected
-- manifest, no reference possible) withdraws what an earlier run of the same job registered: status 0 and not best
-- (a lock included: a withdrawn product is not valid), and the latest valid version of the natural key becomes best
-- again unless another version is locked. A later successful run of the job registers its products again, in the
-- same version, and makes them best again.

create function withdraw_job_products(p_jid bigint) returns integer
language plpgsql as $$
declare
  r record;
  n integer := 0;
begin
  for r in select rfid, field, fid, ppid, vbest from refimages where jid = p_jid and status > 0 loop
    perform pg_advisory_xact_lock(hashtextextended(format('refimages:%s:%s:%s', r.field, r.fid, r.ppid), 0));
    update refimages set status = 0, vbest = 0 where rfid = r.rfid;
    update refimcatalogs set status = 0 where rfid = r.rfid;
    if r.vbest > 0 and not exists (select 1 from refimages where field = r.field and fid = r.fid and ppid = r.ppid and vbest = 2) then
      update refimages set vbest = 1 where rfid = (
        select rfid from refimages where field = r.field and fid = r.fid and ppid = r.ppid and status > 0 order by version desc limit 1);
    end if;
    n := n + 1;
  end loop;
  for r in select pid, rid, ppid, vbest from diffimages where jid = p_jid and status > 0 loop
    perform pg_advisory_xact_lock(hashtextextended(format('diffimages:%s:%s', r.rid, r.ppid), 0));
    update diffimages set status = 0, vbest = 0 where pid = r.pid;
    if r.vbest > 0 and not exists (select 1 from diffimages where rid = r.rid and ppid = r.ppid and vbest = 2) then
      update diffimages set vbest = 1 where pid = (
        select pid from diffimages where rid = r.rid and ppid = r.ppid and status > 0 order by version desc limit 1);
    end if;
    n := n + 1;
  end loop;
  -- Its injection-recovery figures measured products that are no longer valid.
  delete from recoveryjobs where jid = p_jid;
  return n;
end $$;

-- As V001's, but a withdrawn row of the same job (status 0) is registered again in its version and becomes best again.
create or replace function refimage_slot(p_jid bigint, p_field bigint, p_fid smallint, p_ppid smallint,
                                         out o_version integer, out o_vbest smallint)
language plpgsql as $$
declare
  v_status smallint;
begin
  perform pg_advisory_xact_lock(hashtextextended(format('refimages:%s:%s:%s', p_field, p_fid, p_ppid), 0));
  select version, vbest, status into o_version, o_vbest, v_status from refimages where jid = p_jid;
  if found and v_status > 0 then return; end if;
  if not found then
    select coalesce(max(version), 0) + 1 into o_version from refimages where field = p_field and fid = p_fid and ppid = p_ppid;
  end if;
  if exists (select 1 from refimages where field = p_field and fid = p_fid and ppid = p_ppid and vbest = 2 and jid <> p_jid) then
    o_vbest := 0;
  else
    update refimages set vbest = 0 where field = p_field and fid = p_fid and ppid = p_ppid and vbest = 1 and jid <> p_jid;
    o_vbest := 1;
  end if;
end $$;

create or replace function diffimage_slot(p_jid bigint, p_rid bigint, p_ppid smallint,
                                          out o_version integer, out o_vbest smallint)
language plpgsql as $$
declare
  v_status smallint;
begin
  perform pg_advisory_xact_lock(hashtextextended(format('diffimages:%s:%s', p_rid, p_ppid), 0));
  select version, vbest, status into o_version, o_vbest, v_status from diffimages where jid = p_jid;
  if found and v_status > 0 then return; end if;
  if not found then
    select coalesce(max(version), 0) + 1 into o_version from diffimages where rid = p_rid and ppid = p_ppid;
  end if;
  if exists (select 1 from diffimages where rid = p_rid and ppid = p_ppid and vbest = 2 and jid <> p_jid) then
    o_vbest := 0;
  else
    update diffimages set vbest = 0 where rid = p_rid and ppid = p_ppid and vbest = 1 and jid <> p_jid;
    o_vbest := 1;
  end if;
end $$;
