-- Least privilege in the ops database. Two roles, cluster-wide (created once, here or beforehand by a DBA):
--   rapid_ops       what the operations steps (the Lambdas, the embedded engine) run as: read and write rows
--                   of the ops tables and use their sequences; no DDL, no ownership, no superuser. The
--                   deploy gives it LOGIN and the password of its own secret (MigrateHandler); embedded
--                   mode switches to it after migrating (OpsRoles.Operations).
--   rapid_readonly  for scientists: SELECT on every ops table. NOLOGIN: grant it to personal logins.
-- The owner (the migrating user) keeps the schema: new tables of later migrations get the same grants
-- through the default privileges below. Creating a role needs CREATEROLE (RDS's master user has it).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'rapid_ops') then
    begin
      create role rapid_ops nologin nosuperuser nocreatedb nocreaterole noinherit;
    exception when duplicate_object or unique_violation then null; -- another database of the cluster made it first
    end;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'rapid_readonly') then
    begin
      create role rapid_readonly nologin nosuperuser nocreatedb nocreaterole;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  -- Connect, and temporary tables (session scratch, not schema); the owner may switch to the roles
  -- (embedded mode's SET ROLE); nobody else may create objects in the schema.
  execute format('grant connect, temporary on database %I to rapid_ops', current_database());
  execute format('grant connect on database %I to rapid_readonly', current_database());
  execute format('grant rapid_ops, rapid_readonly to %I', current_user);
end
$$;

revoke create on schema public from public;
grant usage on schema public to rapid_ops, rapid_readonly;

grant select, insert, update, delete on all tables in schema public to rapid_ops;
grant usage, select, update on all sequences in schema public to rapid_ops;
grant select on all tables in schema public to rapid_readonly;
grant select on all sequences in schema public to rapid_readonly;
-- The migrations' own record is the owner's alone to write.
revoke insert, update, delete on schema_migrations from rapid_ops;

alter default privileges in schema public grant select, insert, update, delete on tables to rapid_ops;
alter default privileges in schema public grant usage, select, update on sequences to rapid_ops;
alter default privileges in schema public grant select on tables to rapid_readonly;
alter default privileges in schema public grant select on sequences to rapid_readonly;
