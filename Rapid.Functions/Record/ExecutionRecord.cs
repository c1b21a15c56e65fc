using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Record.Qc;

namespace Rapid.Functions.Record;

/// <summary>A job's log as registration read it: where it is, its bytes' size and digests, and what the QC patterns matched.</summary>
public sealed record ScannedLog(ObjectRef File, FileChecksum Checksum, IReadOnlyList<QcMatch> Matches);

/// <summary>A registered manifest whose attempt <see cref="ExecutionRecord"/> records: where it was read, its bytes' checksum, its job's log.</summary>
internal sealed record RecordedManifest(ProductManifest Manifest, ObjectRef Key, FileChecksum Checksum, ScannedLog? Log);

/// <summary>
/// What the registration of a batch of manifests records of each job's attempt, in the batch's own transaction (so it
/// commits or rolls back with the registration): the attempt's figures (times, wall and CPU seconds, peak memory, host,
/// Batch job, exit code, software, config and settings), its steps and states (running, uploaded, registered), the files
/// it wrote (products, log, manifest) with what each was derived from, the QC matches of its log, and, for
/// post-processing, the source job's 'postprocessed' state. The attempt is the one of the job's latest submission that
/// ran as the manifest's Batch attempt (<c>job_attempt</c>). Set-based: a few statements for the whole batch, each over
/// arrays of every manifest's rows (one statement per manifest and table cost more than the rows themselves).
/// </summary>
internal static class ExecutionRecord
{
    /// <summary>The name of the timeline step that uploads the products (Rapid.Pipeline.Jobs.JobRunner).</summary>
    public const string UploadStep = "upload";

    private static readonly string[] ReferenceRoles =
        [ProductRoles.ReferenceImage, ProductRoles.ReferenceCoverage, ProductRoles.ReferenceUncertainty, ProductRoles.ReferenceCatalog];

    /// <summary>How a job's products derive from the files its attempt used (<see cref="AddDerivations"/>).</summary>
    private const string DerivedFromCoadded = "coadded", DerivedFromScienceAndCoadded = "science_coadded", DerivedFromStamped = "stamped",
        DerivedFromAll = "all";

    /// <summary>Records the attempts of <paramref name="items"/> (distinct jobs, in jid order: their attempt rows are locked in that order).</summary>
    public static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<RecordedManifest> items, CancellationToken ct)
    {
        if (items.Count == 0) return;
        var jids = items.Select(i => i.Manifest.Jid).ToArray();
        var attempts = (await conn.QueryAsync<int>(new CommandDefinition(
            "select job_attempt(u.jid, u.batchattempt) from unnest(@jids, @batchAttempts) with ordinality as u(jid, batchattempt, ord) order by u.ord",
            new { jids, batchAttempts = items.Select(i => i.Manifest.Batch.Attempt).ToArray() }, tx, cancellationToken: ct))).ToArray();
        var sql = new StringBuilder();
        var args = new DynamicParameters(new { jids, attempts });
        AddAttempts(sql, args, items);
        AddSteps(sql, args, items, attempts);
        await AddFilesAsync(conn, tx, sql, args, items, attempts, ct);
        AddDerivations(sql, args, items, attempts);
        AddQcMatches(sql, args, items, attempts);
        await conn.ExecuteAsync(new CommandDefinition(sql.ToString(), args, tx, cancellationToken: ct));
    }

    /// <summary>
    /// Each attempt's figures, and its states running (the manifest's start), uploaded (the end of its upload step) and
    /// registered (now): each state recorded once, the attempt's state the highest ranked it reached.
    /// </summary>
    private static void AddAttempts(StringBuilder sql, DynamicParameters args, IReadOnlyList<RecordedManifest> items)
    {
        var ms = items.Select(i => i.Manifest).ToList();
        // Each distinct settings once (a night runs with one): serialized once here and parsed once by the server, not per attempt.
        var settings = ms.Select(m => m.Settings).OfType<PipelineSettings>().Distinct().ToList();
        var states = items.SelectMany((i, k) => States(i.Manifest).Select(s => (Index: k, s.State, s.At, s.Source, s.Detail))).ToList();
        sql.Append("""
            insert into jobstates (jid, attempt, state, at, source, detail)
            select (@jids)[s.i], (@attempts)[s.i], s.state, coalesce(s.at, now()), s.source, s.detail
            from unnest(@erStateIndex, @erStates, @erStateTimes, @erStateSources, @erStateDetails) as s(i, state, at, source, detail)
            on conflict (jid, attempt, state) do nothing;
            update jobattempts t set started = u.started, ended = u.ended, wallseconds = u.wall, cpuseconds = u.cpu,
              peakmemorybytes = u.peak, host = u.host, processors = u.processors, computeenv = coalesce(u.computeenv, t.computeenv),
              jobqueue = coalesce(u.jobqueue, t.jobqueue), batchjobid = coalesce(u.batchjobid, t.batchjobid),
              processexit = coalesce(t.processexit, u.processexit), exitcode = u.exit, reason = u.reason, software = u.software,
              gitcommit = u.gitcommit, configsha256 = u.configsha, settings = s.settings, manifestsha256 = u.manifestsha,
              state = case when job_state_rank(u.state) > job_state_rank(t.state) then u.state else t.state end
            from unnest(@jids, @attempts, @erStarted, @erEnded, @erWall, @erCpu, @erPeak, @erHost, @erProcessors, @erComputeEnv, @erJobQueue,
                        @erBatchJobId, @erProcessExit, @erExit, @erReason, @erSoftware, @erCommit, @erConfigSha, @erSettingsIndex, @erManifestSha,
                        @erState)
              as u(jid, attempt, started, ended, wall, cpu, peak, host, processors, computeenv, jobqueue, batchjobid, processexit, exit,
                   reason, software, gitcommit, configsha, settingsindex, manifestsha, state)
              left join (select x.settings::jsonb as settings, x.n from unnest(@erSettings) with ordinality as x(settings, n)) s on s.n = u.settingsindex
            where t.jid = u.jid and t.attempt = u.attempt;

            """);
        args.AddDynamicParams(new
        {
            erStateIndex = states.Select(s => s.Index + 1).ToArray(), erStates = states.Select(s => s.State).ToArray(),
            erStateTimes = states.Select(s => s.At).ToArray(), erStateSources = states.Select(s => s.Source).ToArray(),
            erStateDetails = states.Select(s => s.Detail).ToArray(),
            erStarted = ms.Select(m => m.Started).ToArray(), erEnded = ms.Select(m => m.Ended).ToArray(),
            erWall = ms.Select(m => m.Resources.WallSeconds).ToArray(), erCpu = ms.Select(m => m.Resources.CpuSeconds).ToArray(),
            erPeak = ms.Select(m => m.Resources.PeakMemoryBytes).ToArray(), erHost = ms.Select(m => NullIfEmpty(m.Host.Name)).ToArray(),
            erProcessors = ms.Select(m => m.Host.ProcessorCount > 0 ? m.Host.ProcessorCount : (int?)null).ToArray(),
            erComputeEnv = ms.Select(m => m.Batch.ComputeEnvironment).ToArray(), erJobQueue = ms.Select(m => m.Batch.JobQueue).ToArray(),
            erBatchJobId = ms.Select(m => m.Batch.JobId).ToArray(), erProcessExit = ms.Select(m => ExitCodes.ProcessExitCode(m.ExitCode)).ToArray(),
            erExit = ms.Select(m => m.ExitCode).ToArray(),
            erReason = ms.Select(m => m.Reason ?? (m.Warnings.Count > 0 ? string.Join("; ", m.Warnings.Select(w => w.Message)) : null)).ToArray(),
            erSoftware = ms.Select(m => NullIfEmpty(m.Software.Version.Trim())).ToArray(), erCommit = ms.Select(m => m.Software.GitCommit).ToArray(),
            erConfigSha = ms.Select(m => NullIfEmpty(m.ConfigSha256)).ToArray(),
            erSettings = settings.Select(x => JsonSerializer.Serialize(x, RapidJsonContext.Default.PipelineSettings)).ToArray(),
            erSettingsIndex = ms.Select(m => m.Settings is null ? (long?)null : settings.IndexOf(m.Settings) + 1).ToArray(),
            erManifestSha = items.Select(i => i.Checksum.Sha256).ToArray(),
            // Registered: the highest ranked of the three.
            erState = items.Select(_ => JobStates.Registered).ToArray(),
        });
    }

    /// <summary>running (the manifest's start), uploaded (the end of its upload step), registered (now).</summary>
    private static List<(string State, DateTimeOffset? At, string Source, string? Detail)> States(ProductManifest m)
    {
        var states = new List<(string State, DateTimeOffset? At, string Source, string? Detail)>
        {
            (JobStates.Running, m.Started, StateSources.Manifest, m.Host.Name.Length > 0 ? $"on {m.Host.Name}" : null),
        };
        if (m.Timeline.LastOrDefault(s => s.Name == UploadStep) is { } upload)
            states.Add((JobStates.Uploaded, upload.Ended, StateSources.Manifest, $"{m.Products.Count} product(s)"));
        states.Add((JobStates.Registered, null, StateSources.Registration, $"exit {m.ExitCode} ({ExitCodes.Describe(m.ExitCode)})"));
        return states;
    }

    /// <summary>Each attempt's steps (its manifest's timeline), replacing what an earlier registration of the attempt recorded.</summary>
    private static void AddSteps(StringBuilder sql, DynamicParameters args, IReadOnlyList<RecordedManifest> items, int[] attempts)
    {
        var steps = items.SelectMany((i, k) => i.Manifest.Timeline.Select((s, seq) => (Index: k, Seq: seq, Step: s))).ToList();
        sql.Append("""
            delete from attemptsteps s using unnest(@jids, @attempts) as u(jid, attempt) where s.jid = u.jid and s.attempt = u.attempt;
            insert into attemptsteps (jid, attempt, seq, step, started, ended, wallseconds, cpuseconds)
            select (@jids)[u.i], (@attempts)[u.i], u.seq, u.step, u.started, u.ended, u.wall, u.cpu
            from unnest(@erStepIndex, @erStepSeq, @erSteps, @erStepStarted, @erStepEnded, @erStepWall, @erStepCpu)
              as u(i, seq, step, started, ended, wall, cpu);

            """);
        args.AddDynamicParams(new
        {
            erStepIndex = steps.Select(s => s.Index + 1).ToArray(), erStepSeq = steps.Select(s => (short)s.Seq).ToArray(),
            erSteps = steps.Select(s => s.Step.Name).ToArray(), erStepStarted = steps.Select(s => s.Step.Started).ToArray(),
            erStepEnded = steps.Select(s => s.Step.Ended).ToArray(), erStepWall = steps.Select(s => s.Step.WallSeconds).ToArray(),
            erStepCpu = steps.Select(s => s.Step.CpuSeconds).ToArray(),
        });
    }

    /// <summary>
    /// The products (post-processing: the stamped copies), the log and the manifest, generated by each attempt. A name
    /// seen for the first time is inserted with the others at once; one already recorded (a re-run, a redelivery), or
    /// named twice in the batch, goes through <c>record_file</c>, which compares contents and marks a file written
    /// again with other content overwritten.
    /// </summary>
    private static async Task AddFilesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StringBuilder sql, DynamicParameters args,
        IReadOnlyList<RecordedManifest> items, int[] attempts, CancellationToken ct)
    {
        var files = items.SelectMany((i, k) => Files(i).Select(f => (Index: k, Uri: f.File.ToString(), f.Kind, f.Role, f.Checksum))).ToList();
        var once = files.GroupBy(f => f.Uri).Where(g => g.Count() == 1).SelectMany(g => g).ToList();
        var inserted = (await conn.QueryAsync<string>(new CommandDefinition("""
            insert into files (uri, kind, role, sizebytes, sha256, md5, jid, attempt)
            select u.uri, u.kind, u.role, u.size, u.sha, u.md5, (@jids)[u.i], (@attempts)[u.i]
            from unnest(@nFileIndex, @nFileUris, @nFileKinds, @nFileRoles, @nFileSizes, @nFileShas, @nFileMd5s) as u(i, uri, kind, role, size, sha, md5)
            on conflict (uri) where status = 'kept' do nothing
            returning uri
            """,
            new
            {
                jids = items.Select(i => i.Manifest.Jid).ToArray(), attempts,
                nFileIndex = once.Select(f => f.Index + 1).ToArray(), nFileUris = once.Select(f => f.Uri).ToArray(),
                nFileKinds = once.Select(f => f.Kind).ToArray(), nFileRoles = once.Select(f => f.Role).ToArray(),
                nFileSizes = once.Select(f => f.Checksum.SizeBytes).ToArray(), nFileShas = once.Select(f => f.Checksum.Sha256).ToArray(),
                nFileMd5s = once.Select(f => f.Checksum.Md5).ToArray(),
            }, tx, cancellationToken: ct))).ToHashSet(StringComparer.Ordinal);
        var rest = files.Where(f => !inserted.Contains(f.Uri)).ToList();
        sql.Append("""
            select record_file(u.uri, u.kind, u.role, u.size, u.sha, u.md5, (@jids)[u.i], (@attempts)[u.i], null, null)
            from unnest(@erFileIndex, @erFileUris, @erFileKinds, @erFileRoles, @erFileSizes, @erFileShas, @erFileMd5s)
              with ordinality as u(i, uri, kind, role, size, sha, md5, ord)
            order by u.ord;

            """);
        args.AddDynamicParams(new
        {
            erFileIndex = rest.Select(f => f.Index + 1).ToArray(),
            erFileUris = rest.Select(f => f.Uri).ToArray(), erFileKinds = rest.Select(f => f.Kind).ToArray(),
            erFileRoles = rest.Select(f => f.Role).ToArray(), erFileSizes = rest.Select(f => f.Checksum.SizeBytes).ToArray(),
            erFileShas = rest.Select(f => f.Checksum.Sha256).ToArray(), erFileMd5s = rest.Select(f => f.Checksum.Md5).ToArray(),
        });
    }

    private static List<(ObjectRef File, string Kind, string? Role, FileChecksum Checksum)> Files(RecordedManifest item)
    {
        var m = item.Manifest;
        var files = m.Products.Select(p => (p.File, Kind: FileKinds.Product, Role: (string?)p.Role, p.Checksum)).ToList();
        // Post-processing lists its stamped copies in its outcome, not as products.
        if (m.Outcome is PostProcessingOutcome pp) files.AddRange(pp.Stamped.Select(x => (x.File, FileKinds.Product, (string?)x.Role, x.Checksum)));
        if (item.Log is { } log) files.Add((log.File, FileKinds.Log, null, log.Checksum));
        files.Add((item.Key, FileKinds.Manifest, null, item.Checksum));
        return files;
    }

    /// <summary>
    /// OPM wasDerivedFrom, from what each attempt used: a reference from the L2 images actually co-added; a difference
    /// image's products from the science image and the reference (the registered one's files, or the one the job co-added,
    /// itself from its co-added inputs); a stamped copy from the product it stamped; the night's table from the job tables.
    /// Each attempt's products are looked up by (jid, attempt) in a lateral subquery: a night inserts its products minutes
    /// after the planner's statistics of <c>files</c> were taken, and joined freely the planner took the night's thousands
    /// of products for a handful and scanned them all once per manifest (0.6-4.9 s per batch of 250 at 2,069 jobs).
    /// </summary>
    private static void AddDerivations(StringBuilder sql, DynamicParameters args, IReadOnlyList<RecordedManifest> items, int[] attempts)
    {
        var rules = items.Select(i => i.Manifest.Outcome switch
        {
            ReferenceImageOutcome r => (DerivedFromCoadded, r.Reference.InputRids),
            ScienceOutcome { CoaddedReference: { } c } => (DerivedFromScienceAndCoadded, c.InputRids),
            PostProcessingOutcome => (DerivedFromStamped, []),
            _ => (DerivedFromAll, (IReadOnlyList<long>)[]),
        }).Select(x => (Rule: x.Item1, Coadded: x.Item2)).ToList();
        var coadded = rules.SelectMany((r, k) => r.Coadded.Select(rid => (Index: k, Rid: rid))).ToList();
        var pp = items.Select(i => i.Manifest.Outcome).OfType<PostProcessingOutcome>().Where(o => o.Stamped.Count > 0).ToList();
        sql.Append($"""
            insert into filederived (child, parent)
            select g.fileid, p.fileid
            from unnest(@jids, @attempts, @erRules) with ordinality as m(jid, attempt, rule, i)
            cross join lateral (
              select fileid, role from files g where g.jid = m.jid and g.attempt = m.attempt and g.kind = 'product' and g.status = 'kept'
              offset 0) g
            join fileused u on u.jid = m.jid and u.attempt = m.attempt and u.role <> 'config'
            join files p on p.fileid = u.fileid
            where g.fileid <> p.fileid and case m.rule
              when '{DerivedFromCoadded}' then p.rid in (select c.rid from unnest(@erCoaddedIndex, @erCoadded) as c(i, rid) where c.i = m.i)
              when '{DerivedFromScienceAndCoadded}' then
                (g.role = any(@erReferenceRoles) and p.rid in (select c.rid from unnest(@erCoaddedIndex, @erCoadded) as c(i, rid) where c.i = m.i))
                or (g.role <> all(@erReferenceRoles) and u.role <> 'coadd_input')
              when '{DerivedFromStamped}' then u.role = g.role
              else true end
            on conflict do nothing;
            insert into filederived (child, parent)
            select g.fileid, r.fileid
            from unnest(@jids, @attempts, @erRules) as m(jid, attempt, rule)
            cross join lateral (
              select fileid from files g
              where g.jid = m.jid and g.attempt = m.attempt and g.kind = 'product' and g.status = 'kept' and g.role <> all(@erReferenceRoles)
              offset 0) g
            cross join lateral (
              select fileid from files r where r.jid = m.jid and r.attempt = m.attempt and r.role = '{ProductRoles.ReferenceImage}' and r.status = 'kept'
              offset 0) r
            where m.rule = '{DerivedFromScienceAndCoadded}'
            on conflict do nothing;
            with a as (
              select u.source as jid, x.n as attempt, u.detail
              from unnest(@erSources, @erStampedBy) as u(source, detail),
                   lateral (select max(attempt) as n from jobattempts where jid = u.source) x
              where x.n is not null),
            s as (
              insert into jobstates (jid, attempt, state, at, source, detail)
              select jid, attempt, '{JobStates.PostProcessed}', now(), '{StateSources.Registration}', detail from a
              on conflict (jid, attempt, state) do nothing)
            update jobattempts t set state = '{JobStates.PostProcessed}'
            from a where t.jid = a.jid and t.attempt = a.attempt
              and job_state_rank('{JobStates.PostProcessed}') > job_state_rank(t.state);

            """);
        args.AddDynamicParams(new
        {
            erRules = rules.Select(r => r.Rule).ToArray(), erReferenceRoles = ReferenceRoles,
            erCoaddedIndex = coadded.Select(c => c.Index + 1).ToArray(), erCoadded = coadded.Select(c => c.Rid).ToArray(),
            erSources = pp.Select(o => o.SourceJid).ToArray(), erStampedBy = pp.Select(o => $"{o.Stamped.Count} product(s) stamped").ToArray(),
        });
    }

    /// <summary>Each log's QC matches, replacing the attempt's earlier ones; each pattern as it was when it matched.</summary>
    private static void AddQcMatches(StringBuilder sql, DynamicParameters args, IReadOnlyList<RecordedManifest> items, int[] attempts)
    {
        var logged = items.Select((i, k) => (Index: k, i.Log)).Where(x => x.Log is not null).ToList();
        var matches = logged.SelectMany(x => x.Log!.Matches.Select(match => (x.Index, Log: x.Log!.File.ToString(), Match: match))).ToList();
        var patterns = matches.Select(x => x.Match.Pattern).Distinct().ToList();
        sql.Append("""
            delete from qcmatches q using unnest(@qcIndex) as u(i) where q.jid = (@jids)[u.i] and q.attempt = (@attempts)[u.i];
            insert into qcpatterns (name, severity, regex, description)
            select * from unnest(@qcNames, @qcSeverities, @qcRegexes, @qcDescriptions)
            on conflict (name, severity, regex) do nothing;
            insert into qcmatches (jid, attempt, fileid, line, patternid, text)
            select (@jids)[u.i], (@attempts)[u.i], f.fileid, u.line, p.patternid, u.text
            from unnest(@qcMatchIndex, @qcMatchLogs, @qcMatchNames, @qcMatchSeverities, @qcMatchRegexes, @qcLines, @qcTexts)
              as u(i, log, name, severity, regex, line, text)
            join qcpatterns p on p.name = u.name and p.severity = u.severity and p.regex = u.regex
            join files f on f.uri = u.log and f.status = 'kept'
            on conflict do nothing;

            """);
        args.AddDynamicParams(new
        {
            qcIndex = logged.Select(x => x.Index + 1).ToArray(),
            qcNames = patterns.Select(p => p.Name).ToArray(), qcSeverities = patterns.Select(p => p.Severity).ToArray(),
            qcRegexes = patterns.Select(p => p.Regex).ToArray(), qcDescriptions = patterns.Select(p => p.Description).ToArray(),
            qcMatchIndex = matches.Select(x => x.Index + 1).ToArray(), qcMatchLogs = matches.Select(x => x.Log).ToArray(),
            qcMatchNames = matches.Select(x => x.Match.Pattern.Name).ToArray(), qcMatchSeverities = matches.Select(x => x.Match.Pattern.Severity).ToArray(),
            qcMatchRegexes = matches.Select(x => x.Match.Pattern.Regex).ToArray(), qcLines = matches.Select(x => x.Match.Line).ToArray(),
            qcTexts = matches.Select(x => x.Match.Text).ToArray(),
        });
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
