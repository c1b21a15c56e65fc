-- AWS: the token of the processing date's run lease a state machine execution took (ResolveWindow), kept with the
-- execution's run. An execution that times out or is stopped runs no Catch, so no state of its own releases the lease;
-- the function fed by Step Functions' execution status changes finds the run by runs.execution and releases exactly
-- this lease (release_run_lease is by token: a lease another execution took since is left alone). Null for embedded
-- runs, whose lease is bound to their database session.
alter table runs add column lease uuid;
