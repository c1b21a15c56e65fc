-- Planning and registration at survey scale (issue 10). A night of 20,000 science jobs records about 740,000
-- filederived rows (OPM wasDerivedFrom: each product from each file its attempt used) and, planning its stages, about
-- 290,000 fileused rows (OPM used); PostgreSQL's row-level foreign-key triggers checked every file id of them against
-- files, one lookup per id that also locks the file row it finds: about 1.8 million lookups, the largest single cost
-- left in planning and registering a night. Every writer reads those ids from files (or fileused) rows in the same
-- statement (ExecutionRecord's derivation insert, PlanRecord's used files, begin_attempts and copy_attempt_inputs),
-- and files rows are never deleted (a removed file is marked 'deleted', a replaced one 'overwritten'), so these
-- constraints checked nothing the insert had not. Dropped. Kept: the primary keys, filederived's check child <> parent
-- and its parent index, fileused's (jid, attempt) reference to its attempt (it cascades when an attempt goes).
alter table filederived drop constraint if exists filederived_child_fkey;
alter table filederived drop constraint if exists filederived_parent_fkey;
alter table fileused drop constraint if exists fileused_fileid_fkey;
