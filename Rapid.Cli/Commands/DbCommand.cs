using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid db</c>: the ops database: migrations, the embedded cluster, locking best versions.</summary>
internal static class DbCommand
{
    public static Command Create()
    {
        var command = new Command("db", "Ops database: apply migrations, start/stop the embedded cluster, lock a product's best version");
        command.Subcommands.Add(Migrate());
        command.Subcommands.Add(Stop());
        command.Subcommands.Add(ConnectionString());
        command.Subcommands.Add(Lock("lock", "Lock a product as best (vbest 2): newer versions never displace it", locked: true));
        command.Subcommands.Add(Lock("unlock", "Unlock a locked product (vbest 2 -> 1)", locked: false));
        return command;
    }

    private static Command Migrate()
    {
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("migrate", "Apply the schema migrations (starts the embedded cluster when no --db is given)") { db, home, verbose };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            await using var dataSource = await new RapidHome(parse.GetValue(home)!)
                .OpenDatabaseAsync(parse.GetValue(db), line => Console.WriteLine(line), ct);
            Console.WriteLine($"Ops database {OpsDb.Describe(dataSource.ConnectionString)} is at the latest schema version.");
            return 0;
        }));
        return command;
    }

    private static Command Stop()
    {
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("stop", "Stop the embedded PostgreSQL cluster (it starts again on the next command that needs it)") { home, verbose };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            await new RapidHome(parse.GetValue(home)!, create: false).StopDatabaseAsync(ct);
            Console.WriteLine("Embedded ops database stopped.");
            return 0;
        }));
        return command;
    }

    /// <summary>For tools that reach the ops database themselves, e.g. the local run of the state machine (tools/local-state-machine).</summary>
    private static Command ConnectionString()
    {
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("connection-string", "Print the ops database's connection string, migrated (starts the embedded cluster when no --db is given)")
        {
            db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            var connectionString = await rapidHome.ResolveConnectionStringAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            await using (await rapidHome.OpenDatabaseAsync(connectionString, ct: ct)) { }
            Console.WriteLine(connectionString);
            return 0;
        }));
        return command;
    }

    private static Command Lock(string name, string description, bool locked)
    {
        var kind = new Argument<VersionedProduct>("kind") { Description = "ReferenceImage, DifferenceImage or L2File" };
        var id = new Argument<long>("id") { Description = "rfid, pid or rid" };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command(name, description) { kind, id, db, home, verbose };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            await using var dataSource = await new RapidHome(parse.GetValue(home)!, create: false).OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            var versions = new ProductVersions(dataSource);
            var (k, i) = (parse.GetValue(kind), parse.GetValue(id));
            if (locked) await versions.LockAsync(k, i, ct); else await versions.UnlockAsync(k, i, ct);
            var (version, vbest) = await versions.GetAsync(k, i, ct);
            Console.WriteLine($"{k} {i}: version {version}, vbest {vbest}");
            return 0;
        }));
        return command;
    }
}
