-- Batch registration: many manifests in one transaction. begin_registration (V005) raised, which would roll a whole
-- batch back for one manifest with nothing to do; registration_verdict makes the same checks, takes the same row lock
-- (held to the end of the batch's transaction) and returns its verdict, so a batch decides per manifest. Codes as
-- before: RP001 the manifest contradicts its job, RP002 already registered, RP003 stale, RP004 not the job's; null:
-- register it.
create function registration_verdict(p_jid bigint, p_ppid smallint, p_procdate text, p_manifest text, p_sha text,
                                     p_started timestamptz, p_config_sha text, p_rid bigint, p_check_rfid boolean, p_rfid bigint,
                                     p_field bigint, p_fid smallint, p_parent bigint, out o_code text, out o_message text)
language plpgsql as $$
declare
  j record;
begin
  select ppid, to_char(procdate, 'YYYYMMDD') as procdate, rid, rfid, field, fid, parent_jid, status, manifest_key, manifest_sha256,
         config_sha256, launched
    into j from jobs where jid = p_jid for update;
  if not found then
    o_code := 'RP004'; o_message := format('%s: job %s is not in the ops database', p_manifest, p_jid);
  elsif j.procdate <> p_procdate then
    o_code := 'RP004'; o_message := format('%s: manifest says procdate %s, job %s is for %s', p_manifest, p_procdate, p_jid, j.procdate);
  elsif j.manifest_key is not null and j.manifest_key <> p_manifest then
    o_code := 'RP004'; o_message := format('%s: job %s writes its manifest to %s', p_manifest, p_jid, j.manifest_key);
  elsif j.status = 1 and j.manifest_sha256 = p_sha then
    o_code := 'RP002'; o_message := format('%s: already registered', p_manifest);
  elsif j.launched is not null and p_started < j.launched then
    o_code := 'RP003'; o_message := format('%s: the manifest is of a run started %s, before job %s was last planned (%s)',
      p_manifest, p_started, p_jid, j.launched);
  elsif j.ppid <> p_ppid then
    o_code := 'RP001'; o_message := format('%s: manifest says ppid %s, job %s is ppid %s', p_manifest, p_ppid, p_jid, j.ppid);
  elsif j.config_sha256 is not null and p_config_sha is distinct from j.config_sha256 then
    o_code := 'RP001'; o_message := format('%s: configSha256: the job ran config %s, job %s was planned with %s',
      p_manifest, coalesce(p_config_sha, 'none'), p_jid, j.config_sha256);
  elsif p_rid is not null and j.rid is distinct from p_rid then
    o_code := 'RP001'; o_message := format('%s: difference image is of rid %s, job %s planned rid %s', p_manifest, p_rid, p_jid, j.rid);
  elsif p_rid is not null and not exists (select 1 from l2filemeta where rid = p_rid) then
    o_code := 'RP001'; o_message := format('%s: rid %s is not in the ops database', p_manifest, p_rid);
  elsif p_check_rfid and j.rfid is distinct from p_rfid then
    o_code := 'RP001'; o_message := format('%s: difference image is against reference %s, job %s was given %s',
      p_manifest, coalesce(p_rfid::text, 'none'), p_jid, coalesce(j.rfid::text, 'none'));
  elsif p_field is not null and (j.field is distinct from p_field or j.fid is distinct from p_fid) then
    o_code := 'RP001'; o_message := format('%s: reference image is for field %s fid %s, job %s planned field %s fid %s',
      p_manifest, p_field, p_fid, p_jid, j.field, j.fid);
  elsif p_parent is not null and j.parent_jid is distinct from p_parent then
    o_code := 'RP001'; o_message := format('%s: stamps products of job %s, job %s was planned for job %s',
      p_manifest, p_parent, p_jid, j.parent_jid);
  end if;
end $$;

-- Replaced by registration_verdict.
drop function begin_registration(bigint, smallint, text, text, text, timestamptz, text, bigint, boolean, bigint, bigint, smallint, bigint);
