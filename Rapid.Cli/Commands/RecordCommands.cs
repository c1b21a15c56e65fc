using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;
using Rapid.Core.Jobs;
using Rapid.Functions.Record;
using Rapid.Functions.Record.Qc;

namespace Rapid.Cli.Commands;

/// <summary>The operations record: <c>rapid provenance</c>, <c>rapid runs</c>, <c>rapid qc</c>.</summary>
internal static class RecordCommands
{
    public static IEnumerable<Command> Create() => [Provenance(), Runs(), Qc()];

    private static Command Provenance()
    {
        var target = new Argument<string>("target")
        {
            Description = "pid:N (a difference image), rfid:N (a reference image), rid:N (an L2 image), s3://bucket/key, a file under --home's store, or a file name",
        };
        var (db, home, verbose) = (CommonOptions.Database(), CommonOptions.Home(), CommonOptions.Verbose());
        var command = new Command("provenance",
            "Print where a product came from: the files it was derived from down to the L2 images, each with the job attempt, software and config that made it")
        {
            target, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            var what = StoreUri(rapidHome, parse.GetValue(target)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            RecordPrinters.PrintProvenance(await new Provenance(dataSource).TreeAsync(what, ct), ConsoleOutput.Create());
            return 0;
        }));
        return command;
    }

    private static Command Runs()
    {
        var tag = new Option<string?>("--tag") { Description = "Only the runs of this processing tag" };
        var procDate = new Option<string?>("--procdate") { Description = "Only the runs of this processing date (yyyyMMdd)" };
        var limit = new Option<int>("--limit") { Description = "Most runs listed, newest first", DefaultValueFactory = _ => 20 };
        var (db, home, verbose) = (CommonOptions.Database(), CommonOptions.Home(), CommonOptions.Verbose());
        var command = new Command("runs", "List runs of the nightly workflow, newest first: tag, processing date, status, jobs, attempts, resubmissions, files")
        {
            tag, procDate, limit, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var t = Functions.Record.Runs.CheckTag(parse.GetValue(tag));
            var date = parse.GetValue(procDate) is { } d ? ProcessingDate.Parse(d) : (ProcessingDate?)null;
            var n = parse.GetValue(limit);
            if (n < 1) throw new ArgumentException($"--limit {n}: must be at least 1");
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            RecordPrinters.PrintRuns(await Functions.Record.Runs.ListAsync(dataSource, t, date, n, ct), ConsoleOutput.Create());
            return 0;
        }));
        return command;
    }

    private static Command Qc()
    {
        var procDate = new Option<string?>("--procdate") { Description = "Processing date yyyyMMdd (default: the latest with jobs)" };
        var severity = new Option<string>("--severity")
        {
            Description = "Least severity listed: info, warning or error", DefaultValueFactory = _ => "info",
        };
        severity.AcceptOnlyFromAmong([.. QcPatterns.Severities]);
        var pattern = new Option<string?>("--pattern") { Description = "Only the matches of this pattern (its name)" };
        var limit = new Option<int>("--limit") { Description = "Matches listed (the summary counts all)", DefaultValueFactory = _ => 100 };
        var (db, home, verbose) = (CommonOptions.Database(), CommonOptions.Home(), CommonOptions.Verbose());
        var command = new Command("qc", "List the QC log patterns that matched the job logs of a processing date, with their jobs and products")
        {
            procDate, severity, pattern, limit, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var n = parse.GetValue(limit);
            if (n < 1) throw new ArgumentException($"--limit {n}: must be at least 1");
            var given = parse.GetValue(procDate) is { } d ? ProcessingDate.Parse(d) : (ProcessingDate?)null;
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            var date = given ?? await QcLog.LatestProcDateAsync(dataSource, ct)
                ?? throw new InvalidOperationException("the ops database has no jobs yet: nothing to check");
            RecordPrinters.PrintQc(date, await QcLog.ListAsync(dataSource, date, parse.GetValue(severity)!, parse.GetValue(pattern), ct), n, ConsoleOutput.Create());
            return 0;
        }));
        return command;
    }

    /// <summary>A path to a file of the embedded store as the object URI it stands for; anything else as given.</summary>
    private static string StoreUri(RapidHome home, string target)
    {
        if (target.Contains("://", StringComparison.Ordinal) || !File.Exists(target)) return target;
        var relative = Path.GetRelativePath(home.StoreRoot, Path.GetFullPath(target));
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) || !relative.Contains(Path.DirectorySeparatorChar))
            throw new ArgumentException($"{target} is not a file of the object store under {home.StoreRoot}: give its s3:// URI");
        var slash = relative.IndexOf(Path.DirectorySeparatorChar);
        return $"s3://{relative[..slash]}/{relative[(slash + 1)..].Replace(Path.DirectorySeparatorChar, '/')}";
    }
}
