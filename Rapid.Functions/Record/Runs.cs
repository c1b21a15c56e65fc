using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Record;

/// <summary>How a run of the nightly workflow begins: what the <c>runs</c> row says of it.</summary>
/// <param name="Executor">"embedded" (<c>rapid run</c>, <c>rapid demo</c>) or "aws" (the state machine).</param>
/// <param name="Execution">AWS: the state machine execution's id; a run begun again for it (a retried state) is the same run.</param>
/// <param name="OptionsJson">What the run was asked (a JSON object): force, the retry policy, ...</param>
/// <param name="Lease">AWS: the token of the date's run lease the execution holds, released by the token when the execution ends.</param>
public sealed record RunStart(ProcessingDate ProcDate, string? Tag, ObservationWindow? Window, string Executor, string? Execution = null,
    string? Host = null, string OptionsJson = "{}", Guid? Lease = null);

/// <summary>One run as <c>rapid runs</c> lists it: the <c>runs</c> row and what its attempts did.</summary>
public sealed record RunRow
{
    public long RunId { get; init; }
    public string? Tag { get; init; }
    public DateOnly ProcDate { get; init; }
    public string Executor { get; init; } = "";
    public string? Execution { get; init; }
    public string? Host { get; init; }
    public string? Software { get; init; }
    public DateTime? StartObs { get; init; }
    public DateTime? EndObs { get; init; }
    public DateTime Started { get; init; }
    public DateTime? Ended { get; init; }
    public string Status { get; init; } = "";
    /// <summary>Jobs the run attempted, their attempts, how many were resubmissions, and jobs whose last attempt ended in error.</summary>
    public int Jobs { get; init; }
    public int Attempts { get; init; }
    public int Resubmitted { get; init; }
    public int Failed { get; init; }
    /// <summary>Files the run wrote (its attempts' and its plans') and their bytes.</summary>
    public int Files { get; init; }
    public long Bytes { get; init; }
}

/// <summary>Run statuses (<c>runs.status</c>).</summary>
public static class RunStatuses
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";
}

/// <summary>
/// The <c>runs</c> table: a run begun by the engine (<c>rapid run</c>) or the state machine's first state, ended with its
/// status and a summary of its attempts; listed by <c>rapid runs</c>. A processing tag groups runs (DES's proctag).
/// </summary>
public static partial class Runs
{
    public const string Embedded = "embedded";
    public const string Aws = "aws";

    /// <summary>The version of the software driving the run (this assembly's informational version).</summary>
    public static string Software { get; } =
        typeof(Runs).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>A processing tag: 1–64 letters, digits and <c>. _ : + -</c>, starting with a letter or digit. Null or empty: no tag.</summary>
    public static string? CheckTag(string? tag, string what = "--tag")
    {
        if (string.IsNullOrEmpty(tag)) return null;
        if (!TagPattern().IsMatch(tag))
            throw new ArgumentException($"{what} '{tag}': a processing tag is 1-64 letters, digits and . _ : + -, starting with a letter or digit");
        return tag;
    }

    /// <summary>What a run was asked, as <c>runs.options</c> records it: the force flag and the resubmission policy.</summary>
    public static string OptionsJson(bool force, ResubmissionPolicy resubmission) => new JsonObject
    {
        ["force"] = force,
        ["resubmission"] = new JsonObject
        {
            ["exitCodes"] = new JsonArray([.. resubmission.ExitCodes.Order().Select(c => (JsonNode)c)]),
            ["maxAttempts"] = resubmission.MaxAttempts,
            ["backoffSeconds"] = resubmission.BackoffSeconds,
            ["backoffRate"] = resubmission.BackoffRate,
        },
    }.ToJsonString();

    public static async Task<long> BeginAsync(NpgsqlConnection conn, RunStart run, NpgsqlTransaction? tx = null, CancellationToken ct = default)
    {
        CheckTag(run.Tag, "tag");
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into runs (procdate, tag, startobs, endobs, executor, execution, host, software, options, lease)
            values (@procdate, @tag, @startObs, @endObs, @executor, @execution, @host, @software, @options::jsonb, @lease)
            on conflict (execution) where execution is not null do update set procdate = excluded.procdate, lease = excluded.lease
            returning runid
            """,
            new
            {
                procdate = run.ProcDate.Date, tag = run.Tag, startObs = run.Window?.Start, endObs = run.Window?.End, executor = run.Executor,
                execution = run.Execution, host = run.Host, software = Software, options = run.OptionsJson, lease = run.Lease,
            }, tx, cancellationToken: ct));
    }

    /// <summary>
    /// Ends a run with its status, a summary of its attempts and, for a run that did not reach its end, the error that
    /// stopped it (a run already ended keeps its first end).
    /// </summary>
    public static Task EndAsync(NpgsqlConnection conn, long runId, string status, string? error = null, CancellationToken ct = default) =>
        conn.ExecuteAsync(new CommandDefinition("""
            update runs r set ended = now(), status = @status, summary = (
              select jsonb_build_object('jobs', count(distinct a.jid), 'attempts', count(*),
                       'resubmitted', count(*) filter (where a.trigger = 'resubmit'),
                       'errors', count(*) filter (where a.exitcode >= 64))
                     || case when @error::text is null then '{}'::jsonb else jsonb_build_object('error', @error::text) end
              from jobattempts a where a.runid = r.runid)
            where r.runid = @runId and r.ended is null
            """, new { runId, status, error }, cancellationToken: ct));

    public static async Task<IReadOnlyList<RunRow>> ListAsync(NpgsqlDataSource dataSource, string? tag = null, ProcessingDate? procDate = null,
        int limit = 20, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<RunRow>(new CommandDefinition("""
            select r.runid, r.tag, r.procdate, r.executor, r.execution, r.host, r.software, r.startobs, r.endobs, r.started, r.ended, r.status,
                   coalesce(a.jobs, 0) as jobs, coalesce(a.attempts, 0) as attempts, coalesce(a.resubmitted, 0) as resubmitted,
                   coalesce(a.failed, 0) as failed, coalesce(f.files, 0) as files, coalesce(f.bytes, 0) as bytes
            from runs r
            left join lateral (
              select count(distinct x.jid)::int as jobs, count(*)::int as attempts,
                     count(*) filter (where x.trigger = 'resubmit')::int as resubmitted,
                     count(distinct x.jid) filter (where x.exitcode >= 64 and not exists (
                       select 1 from jobattempts y where y.jid = x.jid and y.attempt > x.attempt and y.runid = x.runid))::int as failed
              from jobattempts x where x.runid = r.runid) a on true
            left join lateral (
              select count(*)::int as files, coalesce(sum(fl.sizebytes), 0)::bigint as bytes from files fl
              where fl.runid = r.runid or (fl.jid, fl.attempt) in (select x.jid, x.attempt from jobattempts x where x.runid = r.runid)) f on true
            where (@tag::text is null or r.tag = @tag) and (@procdate::date is null or r.procdate = @procdate)
            order by r.started desc, r.runid desc
            limit @limit
            """, new { tag, procdate = procDate?.Date, limit }, cancellationToken: ct))).ToList();
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$")]
    private static partial Regex TagPattern();
}
