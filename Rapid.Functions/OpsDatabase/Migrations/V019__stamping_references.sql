-- Registration at survey scale (issue 10): no row-level check of each stamped product and queued original against jobs.
--
-- Registering the post-processing of a night of 20,000 science jobs stamps about 140,000 products: each one's
-- jobproducts.stamped_by and the supersededfiles row queued for its original (jid, owner) named a job, and PostgreSQL's
-- row-level foreign-key triggers looked each up in jobs and locked the row it found: about 420,000 lookups, measured as
-- a third of the stamping statement's time (the checks run after the statement, 5,250 a batch of 250 jobs). Their one
-- writer is that statement (PostProcessingRegistrar's, inside a registration batch): stamped_by and supersededfiles.jid
-- are the post-processing job whose row the batch's verdict (registration_verdict) has just locked for update in the
-- same transaction; supersededfiles.owner is the source job that wrote the original, read from the jobproducts row the
-- statement updates (whose own reference to jobs is kept), or the post-processing job that stamped it before. No job row
-- is ever deleted (nothing deletes from jobs: a job planned again gets a new attempt), so the ON DELETE CASCADE of the
-- queue's references never fired. These constraints checked nothing the writer had not. Dropped; the fault suite
-- (NightState's dangling references) counts products stamped by, and queued files of, a job that does not exist.
alter table jobproducts drop constraint if exists jobproducts_stamped_by_fkey;
alter table supersededfiles drop constraint if exists supersededfiles_jid_fkey;
alter table supersededfiles drop constraint if exists supersededfiles_owner_fkey;
