-- Rapid operations database: the original RAPID data model (Caltech-IPAC/rapid database/schema)
-- with the keys and foreign keys it lacked. Times are timestamptz (shown in America/Los_Angeles,
-- as the original database); angles in degrees; hp6/hp9 are NESTED HEALPix pixels at nside 64/512.
-- No q3c (Amazon RDS has none): spatial selection uses the unit vector (x, y, z) of image centres.

do $$ begin
  execute format('alter database %I set timezone to %L', current_database(), 'America/Los_Angeles');
end $$;

create table filters (
  fid smallint primary key,
  filter text not null unique
);
insert into filters (fid, filter) values
  (1, 'F184'), (2, 'H158'), (3, 'J129'), (4, 'K213'), (5, 'R062'), (6, 'Y106'), (7, 'Z087'), (8, 'W146');

create table scas (
  sca smallint primary key check (sca between 1 and 18)
);
insert into scas (sca) select generate_series(1, 18);

create table pipelines (
  ppid smallint primary key,
  priority smallint not null unique,
  script text not null,
  descrip text not null
);
insert into pipelines (ppid, priority, script, descrip) values
  (12, 1, 'rapid-pipeline reference', 'reference image (co-add of earlier L2 images on a sky tile)'),
  (15, 2, 'rapid-pipeline science', 'science pipeline (difference image)'),
  (17, 3, 'rapid-pipeline postproc', 'post-processing (stamp database ids, canonical names)');

create table swversions (
  svid serial primary key,
  cvstag text not null unique,
  created timestamptz not null default now()
);

-- Sky tiles of the Roman tessellation, filled lazily for the fields in use (the full set has 6.3 M).
create table fields (
  field bigint primary key,
  ra0 double precision not null,
  dec0 double precision not null,
  ramin double precision not null,
  ramax double precision not null,
  decmin double precision not null,
  decmax double precision not null,
  hp6 bigint not null,
  hp9 bigint not null
);

create table exposures (
  expid bigserial primary key,
  dateobs timestamptz not null unique,
  mjdobs double precision not null,
  field bigint not null references fields,
  fid smallint not null references filters,
  exptime double precision not null check (exptime > 0),
  ra_targ double precision not null,
  dec_targ double precision not null,
  hp6 bigint not null,
  hp9 bigint not null,
  status smallint not null default 1,
  infobits integer not null default 0,
  created timestamptz not null default now()
);

create table l2files (
  rid bigserial primary key,
  expid bigint not null references exposures,
  sca smallint not null references scas,
  version integer not null check (version > 0),
  vbest smallint not null default 0 check (vbest in (0, 1, 2)),
  field bigint not null references fields,
  fid smallint not null references filters,
  dateobs timestamptz not null,
  mjdobs double precision not null,
  exptime double precision not null,
  infobits integer not null default 0,
  filename text not null,
  checksum text not null,
  status smallint not null default 1,
  naxis1 integer not null,
  naxis2 integer not null,
  ctype1 text not null,
  ctype2 text not null,
  cunit1 text not null default 'deg',
  cunit2 text not null default 'deg',
  crval1 double precision not null,
  crval2 double precision not null,
  crpix1 double precision not null,
  crpix2 double precision not null,
  cd1_1 double precision not null,
  cd1_2 double precision not null,
  cd2_1 double precision not null,
  cd2_2 double precision not null,
  -- SIP distortion: {"a_order":n,"b_order":n,"a":{"A_1_2":v,...},"b":{...}}; null for plain TAN.
  sip jsonb,
  ra_targ double precision,
  dec_targ double precision,
  pa_obsy double precision,
  pa_fpa double precision,
  zptmag double precision,
  skymean double precision,
  hp6 bigint not null,
  hp9 bigint not null,
  created timestamptz not null default now(),
  unique (expid, sca, version)
);
-- At most one best (or locked) version per (expid, sca).
create unique index l2files_one_best on l2files (expid, sca) where vbest > 0;
create index l2files_dateobs on l2files (dateobs) where vbest > 0;
create index l2files_field_fid on l2files (field, fid);

create table l2filemeta (
  rid bigint primary key references l2files,
  ra0 double precision not null, dec0 double precision not null,
  ra1 double precision not null, dec1 double precision not null,
  ra2 double precision not null, dec2 double precision not null,
  ra3 double precision not null, dec3 double precision not null,
  ra4 double precision not null, dec4 double precision not null,
  -- unit vector of the centre: angular distance tests without q3c, exact near RA 0/360 and the poles.
  x double precision not null, y double precision not null, z double precision not null,
  fid smallint not null references filters,
  sca smallint not null references scas,
  mjdobs double precision not null,
  field bigint not null references fields,
  hp6 bigint not null,
  hp9 bigint not null
);
create index l2filemeta_fid_z on l2filemeta (fid, z);
create index l2filemeta_hp6 on l2filemeta (hp6);

create table jobs (
  jid bigserial primary key,
  ppid smallint not null references pipelines,
  procdate date not null,
  rid bigint references l2files,
  expid bigint references exposures,
  sca smallint references scas,
  field bigint references fields,
  fid smallint references filters,
  rfid bigint,                                  -- registered reference a science job was given
  parent_jid bigint references jobs,            -- the job a post-processing job stamps
  status smallint not null default 0 check (status in (0, 1)),   -- 0 open, 1 closed out
  exitcode integer,
  reason text,
  launched timestamptz,
  started timestamptz,
  ended timestamptz,
  elapsed double precision,                     -- seconds, ended - started
  batch_job_id text,
  attempt integer,
  config_key text,
  manifest_key text,
  created timestamptz not null default now(),
  check (ppid <> 15 or rid is not null),
  check (ppid <> 12 or (field is not null and fid is not null)),
  check (ppid <> 17 or parent_jid is not null),
  check (status = 0 or exitcode is not null)
);
create unique index jobs_science_key on jobs (ppid, procdate, rid) where ppid = 15;
create unique index jobs_reference_key on jobs (ppid, procdate, field, fid) where ppid = 12;
create unique index jobs_postproc_key on jobs (ppid, procdate, parent_jid) where ppid = 17;
create index jobs_procdate on jobs (procdate, ppid);

create table refimages (
  rfid bigserial primary key,
  field bigint not null references fields,
  fid smallint not null references filters,
  ppid smallint not null references pipelines,
  version integer not null check (version > 0),
  vbest smallint not null default 0 check (vbest in (0, 1, 2)),
  jid bigint not null unique references jobs,   -- a job's product is registered once
  filename text not null,
  checksum text not null,
  status smallint not null default 1,
  svid integer references swversions,
  archivestatus smallint not null default 0,
  infobits integer not null default 0,
  hp6 bigint not null,
  hp9 bigint not null,
  created timestamptz not null default now(),
  unique (field, fid, ppid, version)
);
create unique index refimages_one_best on refimages (field, fid, ppid) where vbest > 0;
alter table jobs add constraint jobs_rfid_fkey foreign key (rfid) references refimages;

create table refimmeta (
  rfid bigint primary key references refimages,
  nframes integer not null,
  mjdobsmin double precision,
  mjdobsmax double precision,
  npixsat bigint,
  npixnan bigint,
  clmean double precision,
  clstddev double precision,
  cov5percent double precision,
  medncov double precision,
  medpixunc double precision,
  fwhmmed double precision,
  nsexcatsources integer
);

create table refimcatalogs (
  rfcatid bigserial primary key,
  rfid bigint not null references refimages,
  ppid smallint not null references pipelines,
  cattype smallint not null,                    -- 1 SExtractor-like (ours), 2 PhotUtils
  filename text not null,
  checksum text not null,
  status smallint not null default 1,
  unique (rfid, ppid, cattype)
);

-- The inputs actually co-added into a reference image.
create table refimimages (
  rfid bigint not null references refimages,
  rid bigint not null references l2files,
  primary key (rfid, rid)
);

create table diffimages (
  pid bigserial primary key,
  rid bigint not null references l2files,
  expid bigint not null references exposures,
  sca smallint not null references scas,
  ppid smallint not null references pipelines,
  version integer not null check (version > 0),
  vbest smallint not null default 0 check (vbest in (0, 1, 2)),
  rfid bigint references refimages,
  jid bigint not null unique references jobs,
  field bigint not null references fields,
  fid smallint not null references filters,
  mjdobs double precision not null,
  ra0 double precision, dec0 double precision,
  ra1 double precision, dec1 double precision,
  ra2 double precision, dec2 double precision,
  ra3 double precision, dec3 double precision,
  ra4 double precision, dec4 double precision,
  infobitssci integer not null default 0,
  infobitsref integer not null default 0,
  filename text not null,
  checksum text not null,
  status smallint not null default 1,
  svid integer references swversions,
  archivestatus smallint not null default 0,
  nalertpackets integer not null default 0,
  hp6 bigint,
  hp9 bigint,
  created timestamptz not null default now(),
  unique (rid, ppid, version)
);
create unique index diffimages_one_best on diffimages (rid, ppid) where vbest > 0;

create table diffimmeta (
  pid bigint primary key references diffimages,
  nsources integer not null,
  npositive integer not null,
  nnegative integer not null,
  scalefacref double precision,
  dxrmsfin double precision,
  dyrmsfin double precision,
  dxmedianfin double precision,
  dymedianfin double precision,
  bkgsci double precision,
  bkgref double precision,
  fwhmsci double precision,
  fwhmref double precision,
  field bigint not null,
  fid smallint not null,
  sca smallint not null
);

-- Every file a job's manifest lists (role per ProductRoles): how later steps find coverage and
-- uncertainty maps of a reference, and what post-processing stamps.
create table jobproducts (
  jid bigint not null references jobs,
  role text not null,
  filename text not null,
  sizebytes bigint not null,
  sha256 text not null,
  md5 text not null,
  primary key (jid, role)
);

-- Version and vbest of a new product of a natural key, by the rules of the original's update*
-- functions, fixed: the new version is max+1 and becomes best (1), demoting the previous best,
-- unless the best is locked (2): then the new one stays 0. A row already registered for the same
-- job keeps its version and vbest (re-registration never mints a version or resets a lock).
-- Serialised per natural key with a transaction-scoped advisory lock.
create function refimage_slot(p_jid bigint, p_field bigint, p_fid smallint, p_ppid smallint,
                              out o_version integer, out o_vbest smallint)
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(hashtextextended(format('refimages:%s:%s:%s', p_field, p_fid, p_ppid), 0));
  select version, vbest into o_version, o_vbest from refimages where jid = p_jid;
  if found then return; end if;
  select coalesce(max(version), 0) + 1 into o_version from refimages where field = p_field and fid = p_fid and ppid = p_ppid;
  if exists (select 1 from refimages where field = p_field and fid = p_fid and ppid = p_ppid and vbest = 2) then
    o_vbest := 0;
  else
    update refimages set vbest = 0 where field = p_field and fid = p_fid and ppid = p_ppid and vbest = 1;
    o_vbest := 1;
  end if;
end $$;

create function diffimage_slot(p_jid bigint, p_rid bigint, p_ppid smallint,
                               out o_version integer, out o_vbest smallint)
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(hashtextextended(format('diffimages:%s:%s', p_rid, p_ppid), 0));
  select version, vbest into o_version, o_vbest from diffimages where jid = p_jid;
  if found then return; end if;
  select coalesce(max(version), 0) + 1 into o_version from diffimages where rid = p_rid and ppid = p_ppid;
  if exists (select 1 from diffimages where rid = p_rid and ppid = p_ppid and vbest = 2) then
    o_vbest := 0;
  else
    update diffimages set vbest = 0 where rid = p_rid and ppid = p_ppid and vbest = 1;
    o_vbest := 1;
  end if;
end $$;

-- L2 ingest: the same file (checksum) again is a no-op (returns its rid, o_new false); a changed
-- file of the same (expid, sca) becomes a new version by the same rules.
create function l2file_slot(p_expid bigint, p_sca smallint, p_checksum text,
                            out o_rid bigint, out o_version integer, out o_vbest smallint)
language plpgsql as $$
begin
  perform pg_advisory_xact_lock(hashtextextended(format('l2files:%s:%s', p_expid, p_sca), 0));
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
