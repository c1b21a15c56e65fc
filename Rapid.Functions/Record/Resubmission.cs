using System.Globalization;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Record;

/// <summary>
/// When a failed job is resubmitted within its run (DES's automatic resubmission): a job closed with one of
/// <see cref="ExitCodes"/> is run again until it has had <see cref="MaxAttempts"/> attempts since it was planned, each
/// round after a back-off (<see cref="Backoff"/>). The defaults resubmit what a second try can cure — an unexpected error
/// (64), a log upload that failed (66), a job lost without a manifest (70: crashed, killed, timed out) — and never what
/// it cannot: invalid input (65) or config (67), a rejected manifest (71), no reference possible (33). Batch's own retry
/// strategy (host failures) works below this, within one submission.
/// </summary>
public sealed record ResubmissionPolicy
{
    public const string ExitCodesVariable = "RAPID_RETRY_EXIT_CODES";
    public const string MaxAttemptsVariable = "RAPID_MAX_ATTEMPTS";
    public const string BackoffVariable = "RAPID_RETRY_BACKOFF_SECONDS";
    public const string BackoffRateVariable = "RAPID_RETRY_BACKOFF_RATE";

    public IReadOnlySet<int> ExitCodes { get; init; } = new HashSet<int> { Core.Jobs.ExitCodes.Error, Core.Jobs.ExitCodes.LogUploadFailed, Core.Jobs.ExitCodes.Lost };
    /// <summary>Attempts of a job within its run, the first included: 1 never resubmits.</summary>
    public int MaxAttempts { get; init; } = 3;
    /// <summary>Seconds before the first resubmission; each later round waits <see cref="BackoffRate"/> times longer.</summary>
    public double BackoffSeconds { get; init; } = 30;
    public double BackoffRate { get; init; } = 2;

    /// <summary>No resubmission.</summary>
    public static ResubmissionPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>The wait before resubmission round <paramref name="round"/> (1, 2, ...).</summary>
    public TimeSpan Backoff(int round) => TimeSpan.FromSeconds(BackoffSeconds * Math.Pow(BackoffRate, Math.Max(0, round - 1)));

    /// <summary>Checks the values; <paramref name="what"/> names where they came from in the error.</summary>
    public ResubmissionPolicy Validated(string what = "retry policy")
    {
        if (MaxAttempts is < 1 or > 10) throw new ArgumentException($"{what}: max attempts {MaxAttempts} is not 1-10");
        if (!double.IsFinite(BackoffSeconds) || BackoffSeconds < 0 || BackoffSeconds > 3600)
            throw new ArgumentException($"{what}: back-off {BackoffSeconds} s is not 0-3600 seconds");
        if (!double.IsFinite(BackoffRate) || BackoffRate < 1 || BackoffRate > 10) throw new ArgumentException($"{what}: back-off rate {BackoffRate} is not 1-10");
        foreach (var code in ExitCodes)
            if (Core.Jobs.ExitCodes.Severity(code) != ExitCodeSeverity.Error || code == Core.Jobs.ExitCodes.InvalidManifest)
                throw new ArgumentException($"{what}: exit code {code} is not an error a job could be resubmitted for (64-255, not 71)");
        return this;
    }

    /// <summary>The policy from the environment (a Lambda's); unset variables keep the defaults.</summary>
    public static ResubmissionPolicy FromEnvironment(Func<string, string?> lookup)
    {
        var policy = new ResubmissionPolicy();
        if (lookup(ExitCodesVariable) is { Length: > 0 } codes) policy = policy with { ExitCodes = ParseExitCodes(codes, ExitCodesVariable) };
        if (lookup(MaxAttemptsVariable) is { Length: > 0 } max) policy = policy with { MaxAttempts = (int)Number(max, MaxAttemptsVariable) };
        if (lookup(BackoffVariable) is { Length: > 0 } backoff) policy = policy with { BackoffSeconds = Number(backoff, BackoffVariable) };
        if (lookup(BackoffRateVariable) is { Length: > 0 } rate) policy = policy with { BackoffRate = Number(rate, BackoffRateVariable) };
        return policy.Validated("environment");
    }

    /// <summary>"64,66,70" → the set; an entry that is not a number is named.</summary>
    public static IReadOnlySet<int> ParseExitCodes(string text, string what) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
                : throw new ArgumentException($"{what} '{text}': '{c}' is not an exit code"))
            .ToHashSet();

    private static double Number(string text, string what) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"{what} '{text}' is not a number");

    /// <summary>The policy as the run's options record it.</summary>
    public string Describe() =>
        $"exit codes {string.Join(",", ExitCodes.Order())}, at most {MaxAttempts} attempts, back-off {BackoffSeconds:0.#} s x {BackoffRate:0.#}";
}

/// <summary>A resubmission round: the jobs to run again (a job list like a plan's; none: nothing to resubmit) and the wait before.</summary>
public sealed record ResubmissionRound(PlanResult Plan, int Round, double WaitSeconds);

/// <summary>
/// Plans a resubmission round of one stage (the engine after each registration, the state machine's retry state): the
/// jobs of the stage's job list that the policy resubmits are reopened (status open, planned again now, so a manifest of
/// the failed attempt can never be registered over the next one), written into a new job list (their configs are
/// unchanged), and each gets a new attempt ('resubmit'; the failed one is marked 'resubmitted'). At most one array of
/// jobs per round: more failures than that are not a job's bad luck.
/// </summary>
public sealed class PlanResubmission(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, PlanningOptions options,
    ResubmissionPolicy policy)
{
    public async Task<ResubmissionRound> PlanAsync(PlanResult stage, int round, CancellationToken ct = default)
    {
        var procDate = ProcessingDate.Parse(stage.ProcDate);
        var none = new ResubmissionRound(new PlanResult { Ppid = stage.Ppid, ProcDate = stage.ProcDate }, round, 0);
        if (stage.JobList is null || policy.MaxAttempts <= 1 || policy.ExitCodes.Count == 0) return none;
        var list = await Contract.ReadAsync<JobList>(store, stage.JobList, ct);
        var entries = list.Jobs.ToDictionary(j => j.Jid);

        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Attempts since the job was last planned: its plan's and the resubmissions after it.
        var again = (await conn.QueryAsync<long>(new CommandDefinition("""
            with failed as (
              select j.jid from jobs j
              where j.jid = any(@jids) and j.status = 1 and j.exitcode = any(@codes)
                and (select count(*) from jobattempts a
                     where a.jid = j.jid and a.trigger in ('plan', 'resubmit')
                       and a.attempt >= coalesce((select max(p.attempt) from jobattempts p where p.jid = j.jid and p.trigger = 'plan'), 0)) < @max
              order by j.jid
              limit @most
              for update of j)
            update jobs j set status = 0, exitcode = null, reason = null, started = null, ended = null, elapsed = null,
              batch_job_id = null, attempt = null, manifest_sha256 = null, launched = now()
            from failed where j.jid = failed.jid
            returning j.jid
            """,
            new
            {
                jids = entries.Keys.ToArray(), codes = policy.ExitCodes.ToArray(), max = policy.MaxAttempts, most = options.MaxArraySize,
            }, tx, cancellationToken: ct))).Order().ToList();
        if (again.Count == 0) return none;
        var retry = list with { Jobs = again.Select(j => entries[j]).ToArray() };
        var writer = new JobPlanWriter(store, keys, options);
        await writer.RecordAsync(conn, tx, procDate, retry, AttemptTriggers.Resubmit, ct);
        await tx.CommitAsync(ct);
        return new ResubmissionRound(await writer.WriteListAsync(procDate, retry, 0, ct), round, policy.Backoff(round).TotalSeconds);
    }
}
