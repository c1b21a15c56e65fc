-- The files registered stamped copies superseded, queued for deletion by the batch that registers the copies, so a
-- registration that ends between its commit and the deletions (a Register λ that timed out or is retried, a killed run)
-- leaves them queued instead of stored twice for ever: registering the post-processing manifest again, or the night's
-- recovery job, deletes what is still pending. A queued file is deleted only once its stamped copy is registered and in
-- the store with its registered size, and never while a registered product names it (a re-run of its job may have
-- written the same key again).
create table supersededfiles (
  uri text primary key,
  jid bigint not null references jobs on delete cascade,   -- the post-processing job whose stamped copy superseded it
  owner bigint not null references jobs on delete cascade, -- the job under whose prefix it was written
  role text not null,
  stamped text not null,                                   -- the copy that replaced it
  sizebytes bigint not null check (sizebytes >= 0),        -- as registered before it was superseded
  status text not null default 'pending' check (status in ('pending', 'deleted', 'gone', 'kept')),
  reason text,                                             -- why a file was kept
  queued timestamptz not null default now(),
  decided timestamptz);
create index supersededfiles_pending on supersededfiles (jid) where status = 'pending';
-- "Is this file a registered product?": asked of every queued file and its copy.
create index jobproducts_filename on jobproducts (filename);
