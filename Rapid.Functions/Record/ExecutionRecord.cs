using System.Text.Json;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Record.Qc;
using Rapid.Functions.Steps.Registration;

namespace Rapid.Functions.Record;

/// <summary>A job's log as registration read it: where it is, its bytes' size and digests, and what the QC patterns matched.</summary>
public sealed record ScannedLog(ObjectRef File, FileChecksum Checksum, IReadOnlyList<QcMatch> Matches);

/// <summary>
/// What the registration of one manifest records of its job's attempt, in the manifest's own batch (so it commits or
/// rolls back with the registration): the attempt's figures (times, wall and CPU seconds, peak memory, host, Batch job,
/// exit code, software, config and settings), its steps and states (running, uploaded, registered), the files it wrote
/// (products, log, manifest) with what each was derived from, the QC matches of its log, and, for post-processing, the
/// source job's 'postprocessed' state. The attempt is the one of the job's latest submission that ran as the manifest's
/// Batch attempt (<c>job_attempt</c>).
/// </summary>
internal static class ExecutionRecord
{
    /// <summary>The name of the timeline step that uploads the products (Rapid.Pipeline.Jobs.JobRunner).</summary>
    public const string UploadStep = "upload";

    private static readonly string[] ReferenceRoles =
        [ProductRoles.ReferenceImage, ProductRoles.ReferenceCoverage, ProductRoles.ReferenceUncertainty, ProductRoles.ReferenceCatalog];

    /// <summary>The attempt of this manifest, as a one-row relation <c>a(n)</c>.</summary>
    private const string Attempt = "(select job_attempt(@jid, @erBatchAttempt) as n) a";

    public static void AddStatements(RegistrationBatch batch, ProductManifest m, ObjectRef manifestKey, FileChecksum manifestChecksum, ScannedLog? log)
    {
        batch.Add($"""
            update jobattempts t set started = @erStarted, ended = @erEnded, wallseconds = @erWall, cpuseconds = @erCpu,
              peakmemorybytes = @erPeak, host = @erHost, processors = @erProcessors, computeenv = coalesce(@erComputeEnv, t.computeenv),
              jobqueue = coalesce(@erJobQueue, t.jobqueue), batchjobid = coalesce(@erBatchJobId, t.batchjobid),
              processexit = coalesce(t.processexit, @erProcessExit), exitcode = @erExit, reason = @erReason, software = @erSoftware,
              gitcommit = @erCommit, configsha256 = @erConfigSha, settings = @erSettings::jsonb, manifestsha256 = @erManifestSha
            from {Attempt} where t.jid = @jid and t.attempt = a.n;
            delete from attemptsteps s using {Attempt} where s.jid = @jid and s.attempt = a.n;
            insert into attemptsteps (jid, attempt, seq, step, started, ended, wallseconds, cpuseconds)
            select @jid, a.n, (u.ord - 1)::smallint, u.step, u.started, u.ended, u.wall, u.cpu
            from {Attempt}, unnest(@erSteps, @erStepStarted, @erStepEnded, @erStepWall, @erStepCpu) with ordinality as u(step, started, ended, wall, cpu, ord);
            select record_job_state(@jid, a.n, s.state, coalesce(s.at, now()), s.source, s.detail)
            from {Attempt}, unnest(@erStates, @erStateTimes, @erStateSources, @erStateDetails) as s(state, at, source, detail);
            select record_file(u.uri, u.kind, u.role, u.size, u.sha, u.md5, @jid, a.n, null, null)
            from {Attempt}, unnest(@erFileUris, @erFileKinds, @erFileRoles, @erFileSizes, @erFileShas, @erFileMd5s)
              as u(uri, kind, role, size, sha, md5)
            """,
            new
            {
                erBatchAttempt = m.Batch.Attempt, erStarted = m.Started, erEnded = m.Ended, erWall = m.Resources.WallSeconds,
                erCpu = m.Resources.CpuSeconds, erPeak = m.Resources.PeakMemoryBytes, erHost = NullIfEmpty(m.Host.Name),
                erProcessors = m.Host.ProcessorCount > 0 ? m.Host.ProcessorCount : (int?)null, erComputeEnv = m.Batch.ComputeEnvironment,
                erJobQueue = m.Batch.JobQueue, erBatchJobId = m.Batch.JobId, erProcessExit = ExitCodes.ProcessExitCode(m.ExitCode),
                erExit = m.ExitCode, erReason = m.Reason ?? (m.Warnings.Count > 0 ? string.Join("; ", m.Warnings.Select(w => w.Message)) : null),
                erSoftware = NullIfEmpty(m.Software.Version.Trim()), erCommit = m.Software.GitCommit, erConfigSha = NullIfEmpty(m.ConfigSha256),
                erSettings = m.Settings is null ? null : JsonSerializer.Serialize(m.Settings, RapidJsonContext.Default.PipelineSettings),
                erManifestSha = manifestChecksum.Sha256,
                erSteps = m.Timeline.Select(s => s.Name).ToArray(), erStepStarted = m.Timeline.Select(s => s.Started).ToArray(),
                erStepEnded = m.Timeline.Select(s => s.Ended).ToArray(), erStepWall = m.Timeline.Select(s => s.WallSeconds).ToArray(),
                erStepCpu = m.Timeline.Select(s => s.CpuSeconds).ToArray(),
            });
        AddStates(batch, m);
        AddFiles(batch, m, manifestKey, manifestChecksum, log);
        if (m.Outcome is { } outcome) AddDerivations(batch, outcome);
        if (log is not null) AddQcMatches(batch, log);
    }

    /// <summary>running (the manifest's start), uploaded (the end of its upload step), registered (now).</summary>
    private static void AddStates(RegistrationBatch batch, ProductManifest m)
    {
        var states = new List<(string State, DateTimeOffset? At, string Source, string? Detail)>
        {
            (JobStates.Running, m.Started, StateSources.Manifest, m.Host.Name.Length > 0 ? $"on {m.Host.Name}" : null),
        };
        if (m.Timeline.LastOrDefault(s => s.Name == UploadStep) is { } upload)
            states.Add((JobStates.Uploaded, upload.Ended, StateSources.Manifest, $"{m.Products.Count} product(s)"));
        states.Add((JobStates.Registered, null, StateSources.Registration, $"exit {m.ExitCode} ({ExitCodes.Describe(m.ExitCode)})"));
        batch.Args.AddDynamicParams(new
        {
            erStates = states.Select(s => s.State).ToArray(), erStateTimes = states.Select(s => s.At).ToArray(),
            erStateSources = states.Select(s => s.Source).ToArray(), erStateDetails = states.Select(s => s.Detail).ToArray(),
        });
    }

    /// <summary>The products (post-processing: the stamped copies), the log and the manifest, generated by this attempt.</summary>
    private static void AddFiles(RegistrationBatch batch, ProductManifest m, ObjectRef manifestKey, FileChecksum manifestChecksum, ScannedLog? log)
    {
        var files = m.Products.Select(p => (p.File, Kind: FileKinds.Product, Role: (string?)p.Role, p.Checksum)).ToList();
        // Post-processing lists its stamped copies in its outcome, not as products.
        if (m.Outcome is PostProcessingOutcome pp) files.AddRange(pp.Stamped.Select(x => (x.File, FileKinds.Product, (string?)x.Role, x.Checksum)));
        if (log is not null) files.Add((log.File, FileKinds.Log, null, log.Checksum));
        files.Add((manifestKey, FileKinds.Manifest, null, manifestChecksum));
        batch.Args.AddDynamicParams(new
        {
            erFileUris = files.Select(f => f.File.ToString()).ToArray(), erFileKinds = files.Select(f => f.Kind).ToArray(),
            erFileRoles = files.Select(f => f.Role).ToArray(), erFileSizes = files.Select(f => f.Checksum.SizeBytes).ToArray(),
            erFileShas = files.Select(f => f.Checksum.Sha256).ToArray(), erFileMd5s = files.Select(f => f.Checksum.Md5).ToArray(),
        });
    }

    /// <summary>
    /// OPM wasDerivedFrom, from what the attempt used: a reference from the L2 images actually co-added; a difference
    /// image's products from the science image and the reference (the registered one's files, or the one the job co-added,
    /// itself from its co-added inputs); a stamped copy from the product it stamped; the night's table from the job tables.
    /// </summary>
    private static void AddDerivations(RegistrationBatch batch, JobOutcome outcome)
    {
        var (rule, coadded) = outcome switch
        {
            ReferenceImageOutcome r => ("p.rid = any(@erCoadded)", r.Reference.InputRids),
            ScienceOutcome { CoaddedReference: { } c } => (
                "(g.role = any(@erReferenceRoles) and p.rid = any(@erCoadded)) or (g.role <> all(@erReferenceRoles) and u.role <> 'coadd_input')",
                c.InputRids),
            PostProcessingOutcome => ("u.role = g.role", []),
            _ => ("true", (IReadOnlyList<long>)[]),
        };
        batch.Add($"""
            insert into filederived (child, parent)
            select g.fileid, p.fileid
            from {Attempt}
            join files g on g.jid = @jid and g.attempt = a.n and g.kind = 'product' and g.status = 'kept'
            join fileused u on u.jid = @jid and u.attempt = a.n and u.role <> 'config'
            join files p on p.fileid = u.fileid
            where g.fileid <> p.fileid and ({rule})
            on conflict do nothing
            """, new { erCoadded = coadded.ToArray(), erReferenceRoles = ReferenceRoles });
        if (outcome is ScienceOutcome { CoaddedReference: not null })
            batch.Add($"""
                insert into filederived (child, parent)
                select g.fileid, r.fileid
                from {Attempt}
                join files g on g.jid = @jid and g.attempt = a.n and g.kind = 'product' and g.status = 'kept' and g.role <> all(@erReferenceRoles)
                join files r on r.jid = @jid and r.attempt = a.n and r.role = '{ProductRoles.ReferenceImage}' and r.status = 'kept'
                on conflict do nothing
                """);
        if (outcome is PostProcessingOutcome { Stamped.Count: > 0 } pp)
            batch.Add("""
                select record_job_state(@erSource, x.n, 'postprocessed', now(), 'registration', @erStampedBy)
                from (select max(attempt) as n from jobattempts where jid = @erSource) x where x.n is not null
                """, new { erSource = pp.SourceJid, erStampedBy = $"{pp.Stamped.Count} product(s) stamped" });
    }

    /// <summary>The log's QC matches, replacing the attempt's earlier ones; each pattern as it was when it matched.</summary>
    private static void AddQcMatches(RegistrationBatch batch, ScannedLog log)
    {
        var patterns = log.Matches.Select(x => x.Pattern).Distinct().ToList();
        batch.Add($"delete from qcmatches q using {Attempt} where q.jid = @jid and q.attempt = a.n");
        if (log.Matches.Count == 0) return;
        batch.Add($"""
            insert into qcpatterns (name, severity, regex, description)
            select * from unnest(@qcNames, @qcSeverities, @qcRegexes, @qcDescriptions)
            on conflict (name, severity, regex) do nothing;
            insert into qcmatches (jid, attempt, fileid, line, patternid, text)
            select @jid, a.n, f.fileid, u.line, p.patternid, u.text
            from {Attempt}, unnest(@qcMatchNames, @qcMatchSeverities, @qcMatchRegexes, @qcLines, @qcTexts) as u(name, severity, regex, line, text)
            join qcpatterns p on p.name = u.name and p.severity = u.severity and p.regex = u.regex
            join files f on f.uri = @qcLog and f.status = 'kept'
            on conflict do nothing
            """,
            new
            {
                qcNames = patterns.Select(p => p.Name).ToArray(), qcSeverities = patterns.Select(p => p.Severity).ToArray(),
                qcRegexes = patterns.Select(p => p.Regex).ToArray(), qcDescriptions = patterns.Select(p => p.Description).ToArray(),
                qcMatchNames = log.Matches.Select(x => x.Pattern.Name).ToArray(), qcMatchSeverities = log.Matches.Select(x => x.Pattern.Severity).ToArray(),
                qcMatchRegexes = log.Matches.Select(x => x.Pattern.Regex).ToArray(), qcLines = log.Matches.Select(x => x.Line).ToArray(),
                qcTexts = log.Matches.Select(x => x.Text).ToArray(), qcLog = log.File.ToString(),
            });
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
