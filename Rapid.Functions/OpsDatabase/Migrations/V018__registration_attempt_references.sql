-- Registration at survey scale (issue 10): no row-level check of each recorded file and step against its attempt.
--
-- Registering a night of 20,000 science jobs and their post-processing records about 330,000 files and 390,000 attempt
-- steps, each naming its job's attempt (jid, attempt); PostgreSQL's row-level foreign-key triggers looked each one up
-- in jobattempts and locked the row it found, about 720,000 lookups a night. The one writer of both tables is the
-- registration of a batch (ExecutionRecord: its files insert, record_file and its steps insert), which takes the
-- attempts from job_attempt in the same transaction: job_attempt returns the attempt row it has just locked for update
-- (or inserted), so the row exists when the files and steps naming it are written, and no attempt or job row is ever
-- deleted (nothing deletes from jobs or jobattempts; a job planned again gets a new attempt). These constraints checked
-- nothing the writer had not. Dropped; the fault suite (NightState's dangling lineage) counts files and steps naming an
-- attempt that does not exist. Kept: the other references to jobattempts (jobstates, fileused, qcmatches: their writers
-- include state changes from outside registration), and files' references to l2files and runs.
alter table files drop constraint if exists files_jid_attempt_fkey;
alter table attemptsteps drop constraint if exists attemptsteps_jid_attempt_fkey;
