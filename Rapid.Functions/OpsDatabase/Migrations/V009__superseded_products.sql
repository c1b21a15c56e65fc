-- Post-processing writes stamped copies of a job's products under its own prefix; once they are registered and
-- verified, registration deletes the unstamped originals they supersede. A post-processing job's row keeps what that
-- saved.
alter table jobs
  add column superseded_files integer check (superseded_files >= 0),
  add column superseded_bytes bigint check (superseded_bytes >= 0);
