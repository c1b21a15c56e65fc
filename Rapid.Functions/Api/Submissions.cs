using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Functions.Record;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Api;

/// <summary>A submitted job as the ops database holds it (<c>submissions</c>).</summary>
/// <param name="RunId">The run it ran in: every pipeline job it made has an attempt of that run.</param>
/// <param name="Execution">AWS: the ARN of the state machine execution the job API started for it.</param>
public sealed record SubmissionRow(long Subid, string JobType, string Inputs, string? Tag, string State, DateOnly? ProcDate, long? Jid,
    int? ExitCode, string? Reason, string? OutDir, string? Software, DateTime Submitted, DateTime? Started, DateTime? Ended, long? RunId,
    string? Execution)
{
    public IReadOnlyDictionary<string, string> InputValues =>
        JsonSerializer.Deserialize(Inputs, SubmissionJson.Default.DictionaryStringString) ?? [];
}

/// <summary>A pipeline job a submission's run made, as the API lists it.</summary>
public sealed record SubmittedPipelineJob(long Jid, short Ppid, int? ExitCode, string? Reason, string? Software, string? GitCommit);

/// <summary>An attempt of a submission's pipeline job.</summary>
public sealed record SubmissionAttempt(int Attempt, int? ExitCode, string? Reason, string? Software, string? GitCommit, DateTime? Started, DateTime? Ended);

/// <summary>A product of a submission: its name in the API (the role; <c>jid{N}-{role}</c> when its run made several jobs) and its URI.</summary>
public sealed record SubmissionProduct(string Name, string Uri);

/// <summary>
/// Jobs users submit (<see cref="JobTypes"/>): validated in full before a row is written (the type's inputs, then that the
/// image, tile or filter they name exist: <see cref="SubmittedJob"/>), queued, taken one at a time by
/// <c>rapid serve</c>'s SubmissionRunner (on AWS the job API λ starts an execution instead: Rapid.Functions.Lambda.SubmitJobHandler), and finished with what ran.
/// </summary>
public sealed class Submissions(NpgsqlDataSource database)
{
    /// <summary>The submission a type and inputs make, checked without the database; a <see cref="JobInputException"/> names the input at fault.</summary>
    public static JobSubmission Check(string? type, IReadOnlyDictionary<string, string?> inputs) => JobTypes.Named(type).Validate(inputs);

    /// <summary>Validates (<see cref="Check"/>, then that what the inputs name exists) and queues a submission.</summary>
    public async Task<long> SubmitAsync(string? type, IReadOnlyDictionary<string, string?> inputs, string? tag, CancellationToken ct = default) =>
        (await SubmitAsync(Check(type, inputs), tag, ct)).Id;

    /// <summary>Queues a checked submission once what its inputs name is found (<see cref="SubmittedJob.ResolveAsync"/>); its id and that job.</summary>
    public async Task<(long Id, SubmittedJob Job)> SubmitAsync(JobSubmission submission, string? tag, CancellationToken ct = default)
    {
        try { tag = Runs.CheckTag(tag, "tag"); }
        catch (ArgumentException e) { throw new JobInputException("tag", e.Message); }
        await using var conn = await database.OpenConnectionAsync(ct);
        var job = await SubmittedJob.ResolveAsync(conn, submission, ct);
        var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into submissions (jobtype, inputs, tag, procdate) values (@type, @inputs::jsonb, @tag, @procdate) returning subid
            """,
            new
            {
                type = submission.Type.Name, tag,
                inputs = JsonSerializer.Serialize(submission.Inputs.ToDictionary(), SubmissionJson.Default.DictionaryStringString),
                procdate = submission.ProcDate()?.Date,
            }, cancellationToken: ct));
        return (id, job);
    }

    public async Task<SubmissionRow?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<SubmissionRow>(new CommandDefinition(Select + " where subid = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>The oldest queued submission (or submission <paramref name="id"/> if it is queued), now running; null when none waits.</summary>
    public async Task<SubmissionRow?> TakeNextAsync(long? id = null, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<SubmissionRow>(new CommandDefinition("""
            update submissions set state = 'running', started = now(), software = @software
            where subid = (select subid from submissions where state = 'queued' and (@id::bigint is null or subid = @id)
                           order by subid limit 1 for update skip locked)
            returning subid, jobtype, inputs::text as inputs, tag, state, procdate, jid, exitcode, reason, outdir, software, submitted, started, ended, runid, execution
            """, new { software = Rapid.Pipeline.Jobs.SoftwareVersion.Current, id }, cancellationToken: ct));
    }

    /// <summary>AWS: a queued submission whose execution has started (<paramref name="execution"/>, its ARN), now running.</summary>
    public async Task StartedAsync(long id, string execution, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update submissions set state = 'running', started = now(), software = @software, execution = @execution
            where subid = @id and state = 'queued'
            """, new { id, execution, software = Rapid.Pipeline.Jobs.SoftwareVersion.Current }, cancellationToken: ct));
    }

    /// <summary>
    /// <c>rapid serve</c>: the running submission's run has begun (<paramref name="runId"/>), so its jobs and products are listed
    /// as the run makes them, not only once it ends.
    /// </summary>
    public async Task RunBegunAsync(long id, long runId, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("update submissions set runid = @runId where subid = @id and state = 'running'",
            new { id, runId }, cancellationToken: ct));
    }

    /// <summary>AWS: a diff's processing date and the prefix its products go to (<see cref="DiffOnAws"/>), recorded once its job is written.</summary>
    public async Task DiffPlannedAsync(long id, ProcessingDate date, string outDirectory, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("update submissions set procdate = @procdate, outdir = @outDirectory where subid = @id",
            new { id, procdate = date.Date, outDirectory }, cancellationToken: ct));
    }

    /// <summary>
    /// AWS: the submission as its execution's run (<c>runs.execution</c>) stands: that run's id (its jobs and products), and,
    /// once the run has ended, its state and end (<c>interrupted</c> reads as failed). A science submission reads as its image's
    /// science job (its id, exit code, attempts and log) and succeeds only when the image has a registered difference image
    /// (<see cref="ScienceVerdict"/>, the rule <c>rapid serve</c> applies too): a run that succeeded without making one (the image
    /// is not the best version of its exposure and SCA) fails it. Unchanged while the execution has not begun its run, or for a
    /// submission run by <c>rapid serve</c>.
    /// </summary>
    public async Task<SubmissionRow> FollowExecutionAsync(SubmissionRow row, CancellationToken ct = default)
    {
        if (row.Execution is not { } execution || row.State is not ("queued" or "running")) return row;
        await using var conn = await database.OpenConnectionAsync(ct);
        var run = await conn.QuerySingleOrDefaultAsync<(long RunId, string Status, DateTime? Ended, DateOnly ProcDate)?>(new CommandDefinition("""
            select runid, status, ended, procdate from runs where execution = @execution order by runid desc limit 1
            """, new { execution }, cancellationToken: ct));
        if (run is not { } r) return row;
        var followed = row with
        {
            RunId = r.RunId, ProcDate = row.ProcDate ?? r.ProcDate, Ended = r.Ended ?? row.Ended,
            State = r.Status switch { "running" => "running", "succeeded" => "succeeded", _ => "failed" },
        };
        if (row.JobType != JobTypes.Science.Name || !long.TryParse(row.InputValues.GetValueOrDefault(JobTypes.Rid.Name),
                System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var rid))
            return followed;
        var science = await ScienceJobAsync(conn, rid, r.RunId, ct);
        followed = followed with { Jid = science?.Jid ?? row.Jid, ExitCode = science?.ExitCode ?? row.ExitCode, Reason = science?.Reason ?? row.Reason };
        if (followed.State != "succeeded") return followed;
        var (succeeded, reason) = ScienceVerdict(rid, science ?? await ProcessedBeforeAsync(conn, rid, ct));
        return followed with { State = succeeded ? "succeeded" : "failed", Reason = reason };
    }

    /// <summary>
    /// AWS: the submissions the execution of run <paramref name="runId"/> was running, ended as that run left them
    /// (<see cref="FollowExecutionAsync"/>) and stored, once the run has ended; how many. Called when the run succeeds
    /// (Summarize λ): a verdict is given once, as <c>rapid serve</c> stores its own, so a later run that processes the same
    /// image does not turn a failed science submission into "processed before". (A run that fails is closed by
    /// <see cref="ExecutionEndedAsync"/>.)
    /// </summary>
    public async Task<int> RunEndedAsync(long runId, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        var open = await conn.QueryAsync<SubmissionRow>(new CommandDefinition(Select + """
             where execution = (select execution from runs where runid = @runId and ended is not null) and state in ('queued', 'running')
            """, new { runId }, cancellationToken: ct));
        var ended = 0;
        foreach (var row in open)
        {
            var followed = await FollowExecutionAsync(row, ct);
            if (followed.State is "queued" or "running") continue;
            ended += await conn.ExecuteAsync(new CommandDefinition("""
                update submissions set state = @State, ended = coalesce(@Ended, now()), jid = @Jid, exitcode = @ExitCode, reason = @Reason,
                  procdate = @ProcDate, runid = @RunId
                where subid = @Subid and state in ('queued', 'running')
                """, followed, cancellationToken: ct));
        }
        return ended;
    }

    /// <summary>
    /// What a science submission made: its science job (null: none was planned) with the job's
    /// registered best difference image, and whether that job ran before the submission (<see cref="ScienceJobMade.Before"/>).
    /// </summary>
    public sealed record ScienceJobMade(long Jid, DateOnly ProcDate, int? ExitCode, string? Reason, string? DiffImage, bool Before = false);

    /// <summary>
    /// Whether a science submission succeeded, and the reason it reads with: it succeeds when its image has a registered best
    /// difference image (made by its run, or before it: then nothing ran again), and fails when no science job was planned
    /// for it (not the best version of its exposure and SCA) or its job made none. One rule for <c>rapid serve</c> and AWS.
    /// </summary>
    public static (bool Succeeded, string? Reason) ScienceVerdict(long rid, ScienceJobMade? job) => job switch
    {
        null => (false, $"no science job was planned for rid {rid}: it is not the best version of its exposure and SCA"),
        { Before: true } => (job.DiffImage is not null,
            $"rid {rid} was processed before: job {job.Jid} on {new ProcessingDate(job.ProcDate)} (nothing ran again)"),
        _ => (job.DiffImage is not null, job.Reason ?? (job.DiffImage is null ? $"science job {job.Jid} registered no difference image" : null)),
    };

    /// <summary>The science job of image <paramref name="rid"/> that run <paramref name="runid"/> made, if it made one.</summary>
    private static Task<ScienceJobMade?> ScienceJobAsync(NpgsqlConnection conn, long rid, long runid, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<ScienceJobMade?>(new CommandDefinition("""
            select j.jid as Jid, j.procdate as ProcDate, j.exitcode as ExitCode, j.reason as Reason,
                   (select d.filename from diffimages d where d.jid = j.jid and d.status > 0 and d.vbest > 0) as DiffImage, false as Before
            from jobs j where j.ppid = 15 and j.rid = @rid and exists (select 1 from jobattempts a where a.jid = j.jid and a.runid = @runid)
            order by j.jid desc limit 1
            """, new { rid, runid }, cancellationToken: ct));

    /// <summary>The job of the image's registered best difference image (on any processing date), if it has one.</summary>
    public static Task<ScienceJobMade?> ProcessedBeforeAsync(NpgsqlConnection conn, long rid, CancellationToken ct = default) =>
        conn.QuerySingleOrDefaultAsync<ScienceJobMade?>(new CommandDefinition("""
            select j.jid as Jid, j.procdate as ProcDate, j.exitcode as ExitCode, j.reason as Reason, d.filename as DiffImage, true as Before
            from diffimages d join jobs j on j.jid = d.jid
            where d.rid = @rid and d.status > 0 and d.vbest > 0
            order by d.vbest desc, d.version desc limit 1
            """, new { rid }, cancellationToken: ct));

    /// <summary>
    /// AWS: the submissions an execution that ended without succeeding was running (<paramref name="execution"/>, its ARN),
    /// failed with <paramref name="reason"/> and tied to the execution's run, if it began one (its jobs and products); how many.
    /// A submission whose execution never began its run would read running for ever otherwise.
    /// </summary>
    public async Task<int> ExecutionEndedAsync(string execution, string reason, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update submissions set state = 'failed', ended = now(), reason = @reason,
              runid = coalesce(runid, (select runid from runs where execution = @execution)),
              procdate = coalesce(procdate, (select procdate from runs where execution = @execution))
            where execution = @execution and state in ('queued', 'running')
            """, new { execution, reason }, cancellationToken: ct));
    }

    /// <summary>A queued or running submission failed with <paramref name="reason"/> (cancelled); false when it had already ended.</summary>
    public async Task<bool> CancelledAsync(long id, string reason, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update submissions set state = 'failed', ended = now(), reason = @reason where subid = @id and state in ('queued', 'running')
            """, new { id, reason }, cancellationToken: ct)) == 1;
    }

    /// <summary>A queued or running submission ended with <paramref name="result"/>; one cancelled meanwhile keeps its state and reason.</summary>
    public async Task FinishAsync(long id, bool succeeded, SubmissionResult result, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update submissions set state = @state, ended = now(), jid = @jid, exitcode = @exit, reason = @reason, outdir = @outdir,
              procdate = coalesce(@procdate, procdate), runid = @runid
            where subid = @id and state in ('queued', 'running')
            """,
            new
            {
                id, state = succeeded ? "succeeded" : "failed", jid = result.Jid, exit = result.ExitCode, reason = result.Reason,
                outdir = result.OutDirectory, procdate = result.ProcDate?.Date, runid = result.RunId,
            }, cancellationToken: ct));
    }

    /// <summary>The attempts of the submission's pipeline job (none when it has no job of its own), in order.</summary>
    public async Task<IReadOnlyList<SubmissionAttempt>> AttemptsAsync(SubmissionRow row, CancellationToken ct = default)
    {
        if (row.Jid is not { } jid) return [];
        await using var conn = await database.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<SubmissionAttempt>(new CommandDefinition("""
            select attempt as Attempt, exitcode as ExitCode, reason as Reason, software as Software, gitcommit as GitCommit,
              started as Started, ended as Ended
            from jobattempts where jid = @jid order by attempt
            """, new { jid }, cancellationToken: ct))];
    }

    /// <summary>The pipeline jobs the submission's run made (with the software and commit of their latest attempt), in order.</summary>
    public async Task<IReadOnlyList<SubmittedPipelineJob>> JobsAsync(SubmissionRow row, CancellationToken ct = default)
    {
        if (row.RunId is null && row.Jid is null) return [];
        await using var conn = await database.OpenConnectionAsync(ct);
        return [.. await conn.QueryAsync<SubmittedPipelineJob>(new CommandDefinition("""
            select j.jid as Jid, j.ppid as Ppid, j.exitcode as ExitCode, j.reason as Reason, a.software as Software, a.gitcommit as GitCommit
            from jobs j
            left join lateral (select software, gitcommit from jobattempts x where x.jid = j.jid order by x.attempt desc limit 1) a on true
            where j.jid = @jid or exists (select 1 from jobattempts x where x.jid = j.jid and x.runid = @runid)
            order by j.jid
            """, new { jid = row.Jid, runid = row.RunId }, cancellationToken: ct))];
    }

    /// <summary>
    /// The submission's registered products: its job's (by role), or, for a run of several jobs with none of its own
    /// (<c>postprocessing</c>), every product its jobs made or stamped, named <c>jid{N}-{role}</c> after the job whose product it is.
    /// </summary>
    public async Task<IReadOnlyList<SubmissionProduct>> ProductsAsync(SubmissionRow row, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        if (row.Jid is { } jid)
            return [.. (await conn.QueryAsync<(string Role, string FileName)>(new CommandDefinition(
                "select role, filename from jobproducts where jid = @jid order by role", new { jid }, cancellationToken: ct)))
                .Select(p => new SubmissionProduct(p.Role, p.FileName))];
        if (row.RunId is not { } runid) return [];
        return [.. (await conn.QueryAsync<(long Jid, string Role, string FileName)>(new CommandDefinition("""
                select p.jid, p.role, p.filename from jobproducts p
                where exists (select 1 from jobattempts a where a.runid = @runid and (a.jid = p.jid or a.jid = p.stamped_by))
                order by p.jid, p.role
                """, new { runid }, cancellationToken: ct)))
            .Select(p => new SubmissionProduct($"jid{p.Jid}-{p.Role}", p.FileName))];
    }

    /// <summary>Submissions left running by a server that stopped: failed, with the reason (they are not resumed).</summary>
    public async Task<int> CloseInterruptedAsync(CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition("""
            update submissions set state = 'failed', ended = now(), reason = 'the server stopped while it ran (submit it again)'
            where state = 'running'
            """, cancellationToken: ct));
    }

    private const string Select = """
        select subid, jobtype, inputs::text as inputs, tag, state, procdate, jid, exitcode, reason, outdir, software, submitted, started, ended, runid, execution
        from submissions
        """;
}

/// <summary>What running a submission gave: the pipeline job it ran (if one), its exit code and reason, where products went.</summary>
public sealed record SubmissionResult(long? Jid, int? ExitCode, string? Reason, ProcessingDate? ProcDate = null, string? OutDirectory = null,
    long? RunId = null);

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SubmissionJson : System.Text.Json.Serialization.JsonSerializerContext;
