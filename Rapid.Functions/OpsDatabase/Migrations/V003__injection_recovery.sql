-- Injection-recovery (issue 5): every science job injects fake point sources, matches them to what it
-- detected and writes a derived table; the night's recovery job (ppid 18, in the post-processing array)
-- merges the tables and measures completeness per filter. Registration fills these tables from the
-- manifests, keyed on the job (per image) or the processing date (per night), so registering twice
-- changes nothing.

insert into pipelines (ppid, priority, script, descrip) values
  (18, 4, 'rapid-pipeline nightrecovery', 'night injection-recovery (merge per-job tables, completeness per filter)');

create unique index jobs_nightrecovery_key on jobs (ppid, procdate) where ppid = 18;

-- One row per science job that injected: what it injected and its derived table.
create table recoveryjobs (
  jid bigint primary key references jobs,
  pid bigint not null unique references diffimages,
  rid bigint not null references l2files,
  fid smallint not null references filters,
  procdate date not null,
  seed bigint not null,
  brightmag double precision not null,
  faintmag double precision not null,
  maglimit double precision not null,             -- estimated 5-sigma point-source limit (AB)
  psffwhm double precision not null,              -- pixels
  psfsource text not null check (psfsource in ('science', 'model')),
  matchradius double precision not null,          -- pixels
  npositive integer not null check (npositive >= 0),
  nunmatched integer not null check (nunmatched between 0 and npositive),
  areadeg2 double precision not null,             -- area searched (valid difference-image pixels)
  nmasked integer not null check (nmasked >= 0),  -- fakes that fell on masked difference pixels (counted as missed)
  filename text not null,
  checksum text not null,
  ended timestamptz not null                      -- the job's end (from the manifest): when its figures were made
);
create index recoveryjobs_procdate on recoveryjobs (procdate, fid);

-- Per job and kind: 'fake' (injected) or 'transient' (the simulator's truth transients, simulated data only).
create table recoveryfigures (
  jid bigint not null references recoveryjobs on delete cascade,
  kind text not null check (kind in ('fake', 'transient')),
  ninjected integer not null check (ninjected >= 0),
  nfound integer not null check (nfound between 0 and ninjected),
  mag50 double precision,
  mag90 double precision,
  fluxbias double precision,                      -- median (measured - injected) / injected of found sources
  primary key (jid, kind)
);

-- One row per processing date: the merged table made by that date's recovery job.
create table nightrecovery (
  procdate date primary key,
  jid bigint not null unique references jobs,
  ntables integer not null check (ntables >= 0),
  filename text not null,
  checksum text not null,
  ended timestamptz not null
);

create table nightrecoveryfigures (
  procdate date not null references nightrecovery on delete cascade,
  fid smallint not null references filters,
  kind text not null check (kind in ('fake', 'transient')),
  nimages integer not null check (nimages > 0),
  ninjected integer not null check (ninjected >= 0),
  nfound integer not null check (nfound between 0 and ninjected),
  mag50 double precision,
  mag90 double precision,
  fluxbias double precision,
  nunmatched integer not null,                    -- positive detections matching no fake or truth object
  areadeg2 double precision not null,
  falseposdeg2 double precision,                  -- nunmatched / areadeg2
  primary key (procdate, fid, kind)
);

create table nightrecoverybins (
  procdate date not null,
  fid smallint not null,
  kind text not null,
  maglow double precision not null,
  maghigh double precision not null check (maghigh > maglow),
  ninjected integer not null check (ninjected > 0),
  nfound integer not null check (nfound between 0 and ninjected),
  completeness double precision not null,
  fluxbias double precision,
  primary key (procdate, fid, kind, maglow),
  foreign key (procdate, fid, kind) references nightrecoveryfigures on delete cascade
);
