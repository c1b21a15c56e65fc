using System.CommandLine;
using System.Text;
using Dapper;
using Rapid.Cli.Embedded;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Report.Data;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid logs JID [--tail N]</c>: a job's log from the logs bucket, after one line saying what the job was and how it ended.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var jid = new Argument<long>("jid") { Description = "The job's id (jid), as the summary, rapid status and the night report name it" };
        var tail = new Option<int?>("--tail", "-n") { Description = "Print only the last N lines" };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("logs", "Print a pipeline job's log (from the logs bucket), after what the job was and how it ended")
        {
            jid, tail, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var id = parse.GetValue(jid);
            if (parse.GetValue(tail) is < 1 and var n) throw new ArgumentException($"--tail {n}: must be at least 1");
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), ct: ct);
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var job = await conn.QuerySingleOrDefaultAsync<(short Ppid, DateOnly ProcDate, short Status, int? ExitCode, string? Reason)?>(new CommandDefinition(
                "select ppid, procdate, status, exitcode, reason from jobs where jid = @jid", new { jid = id }, cancellationToken: ct));
            if (job is not { } j) throw new ArgumentException($"job {id} is not in this ops database (rapid status lists a night's jobs)");
            var procDate = new ProcessingDate(j.ProcDate);
            var outcome = JobOutcomeClasses.Of(j.Status, j.ExitCode);
            Console.Error.WriteLine($"rapid: job {id}, ppid {j.Ppid} {Core.Pipelines.PipelineIds.Describe(j.Ppid)}, processing date {procDate}: {outcome.Title()}"
                + (j.ExitCode is { } c ? $" (exit {c}, {ExitCodes.Describe(c)})" : "") + (j.Reason is { } r ? $": {r}" : ""));
            var log = new ObjectKeys(Buckets.Default).Log(procDate, id);
            byte[] bytes;
            try { bytes = await rapidHome.OpenStore().GetBytesAsync(log, ct); }
            catch (ObjectNotFoundException)
            {
                throw new FileNotFoundException($"job {id} has no log at {log}: " + (outcome == JobOutcomeClass.Open
                    ? "it has not finished (a job uploads its log when it ends)"
                    : "it never started, or was killed before it could upload one"));
            }
            var text = Encoding.UTF8.GetString(bytes);
            if (parse.GetValue(tail) is int lines)
                text = string.Join('\n', text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n').TakeLast(lines)) + "\n";
            Console.Out.Write(text);
            return 0;
        }));
        return command;
    }
}
