using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Functions.Record;

namespace Rapid.Cli.Engine;

/// <summary>A submitted job as the ops database holds it (<c>submissions</c>).</summary>
public sealed record SubmissionRow(long Subid, string JobType, string Inputs, string? Tag, string State, DateOnly? ProcDate, long? Jid,
    int? ExitCode, string? Reason, string? OutDir, string? Software, DateTime Submitted, DateTime? Started, DateTime? Ended)
{
    public IReadOnlyDictionary<string, string> InputValues =>
        JsonSerializer.Deserialize(Inputs, SubmissionJson.Default.DictionaryStringString) ?? [];
}

/// <summary>
/// Jobs users submit (<see cref="JobTypes"/>): validated in full before a row is written (the type's inputs, then that the
/// ids they name exist), queued, taken one at a time by <see cref="SubmissionRunner"/>, and finished with what ran.
/// </summary>
public sealed class Submissions(NpgsqlDataSource database)
{
    /// <summary>
    /// The job types this engine runs: every declared one but <c>reference</c>, whose single (field, filter) plan does not
    /// exist yet (a reference is made by a night's run, or by a science job whose tile has none).
    /// </summary>
    public static bool IsRunnable(JobType type) => type != JobTypes.Reference;

    /// <summary>The submission a type and inputs make, checked without the database; a <see cref="JobInputException"/> names the input at fault.</summary>
    public static JobSubmission Check(string? type, IReadOnlyDictionary<string, string?> inputs)
    {
        var jobType = JobTypes.Named(type);
        if (!IsRunnable(jobType))
            throw new JobInputException("type", $"{jobType.Name} jobs cannot be submitted yet: a reference is made by the night's run (rapid run), " +
                                                "or by a science job whose tile has none");
        return jobType.Validate(inputs);
    }

    /// <summary>Validates (<see cref="Check"/>, then that the ids named exist) and queues a submission.</summary>
    public async Task<long> SubmitAsync(string? type, IReadOnlyDictionary<string, string?> inputs, string? tag, CancellationToken ct = default)
    {
        var submission = Check(type, inputs);
        var jobType = submission.Type;
        try { tag = Runs.CheckTag(tag, "tag"); }
        catch (ArgumentException e) { throw new JobInputException("tag", e.Message); }
        await using var conn = await database.OpenConnectionAsync(ct);
        if (jobType == JobTypes.Science
            && !await conn.ExecuteScalarAsync<bool>(new CommandDefinition("select exists (select 1 from l2files where rid = @rid)",
                new { rid = submission.Id("rid") }, cancellationToken: ct)))
            throw new JobInputException("rid", $"L2 image {submission.Id("rid")} is not registered (rapid ingest registers files)");
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition("""
            insert into submissions (jobtype, inputs, tag, procdate) values (@type, @inputs::jsonb, @tag, @procdate) returning subid
            """,
            new
            {
                type = jobType.Name, tag,
                inputs = JsonSerializer.Serialize(submission.Inputs.ToDictionary(), SubmissionJson.Default.DictionaryStringString),
                procdate = submission.Text("procdate") is { } d ? ProcessingDate.Parse(d).Date : (DateOnly?)null,
            }, cancellationToken: ct));
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
            returning subid, jobtype, inputs::text as inputs, tag, state, procdate, jid, exitcode, reason, outdir, software, submitted, started, ended
            """, new { software = Rapid.Pipeline.Jobs.SoftwareVersion.Current, id }, cancellationToken: ct));
    }

    public async Task FinishAsync(long id, bool succeeded, SubmissionResult result, CancellationToken ct = default)
    {
        await using var conn = await database.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("""
            update submissions set state = @state, ended = now(), jid = @jid, exitcode = @exit, reason = @reason, outdir = @outdir,
              procdate = coalesce(@procdate, procdate)
            where subid = @id
            """,
            new
            {
                id, state = succeeded ? "succeeded" : "failed", jid = result.Jid, exit = result.ExitCode, reason = result.Reason,
                outdir = result.OutDirectory, procdate = result.ProcDate?.Date,
            }, cancellationToken: ct));
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
        select subid, jobtype, inputs::text as inputs, tag, state, procdate, jid, exitcode, reason, outdir, software, submitted, started, ended
        from submissions
        """;
}

/// <summary>What running a submission gave: the pipeline job it ran (if one), its exit code and reason, where products went.</summary>
public sealed record SubmissionResult(long? Jid, int? ExitCode, string? Reason, ProcessingDate? ProcDate = null, string? OutDirectory = null);

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class SubmissionJson : System.Text.Json.Serialization.JsonSerializerContext;
