-- Planning and registration at survey scale (issue 10): fewer checks and index entries per row of the operations record.
--
-- A night of 20,000 science jobs records about 740,000 filederived rows (OPM wasDerivedFrom: each product from each
-- file its attempt used) and, planning its stages, about 290,000 fileused rows (OPM used); PostgreSQL's row-level
-- foreign-key triggers checked every file id of them against files, one lookup per id that also locks the file row it
-- finds: about 1.8 million lookups, the largest single cost left in planning and registering a night. Every writer
-- reads those ids from files (or fileused) rows in the same statement (ExecutionRecord's derivation insert, PlanRecord's
-- used files, begin_attempts and copy_attempt_inputs), and files rows are never deleted (a removed file is marked
-- 'deleted', a replaced one 'overwritten'), so these constraints checked nothing the insert had not. Dropped. Kept: the
-- primary keys, filederived's check child <> parent and its parent index, fileused's (jid, attempt) reference to its
-- attempt (it cascades when an attempt goes).
alter table filederived drop constraint if exists filederived_child_fkey;
alter table filederived drop constraint if exists filederived_parent_fkey;
alter table fileused drop constraint if exists fileused_fileid_fkey;

-- Indexes no query reads (steps and states are read by job, attempt or processing date, through the primary keys and
-- jobs), each one more entry per row: about 350,000 steps and 130,000 states a night of 20,000 jobs.
drop index if exists attemptsteps_step;
drop index if exists jobstates_at;

-- A job row and its attempt row are written in bulk by the plan and updated by the same plan (the config keys) and by
-- registration (closed, the attempt's figures). Packed full by the insert, every update moved the row to another page
-- and added an entry to each of the table's indexes; with room left on each page the update stays on it (a HOT update:
-- no index touched, since no indexed column changes).
alter table jobs set (fillfactor = 50);
alter table jobattempts set (fillfactor = 50);
