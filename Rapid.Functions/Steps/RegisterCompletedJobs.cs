using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Record;
using Rapid.Functions.Record.Qc;
using Rapid.Functions.Steps.Registration;

namespace Rapid.Functions.Steps;

/// <summary>A manifest that could not be registered, and why.</summary>
public sealed record RegistrationFailure(long Jid, string Message);

public sealed record RegistrationReport
{
    /// <summary>Manifests registered (their jobs closed, their products recorded).</summary>
    public int Registered { get; init; }
    /// <summary>Manifests already registered exactly as they are: nothing changed.</summary>
    public int Unchanged { get; init; }
    /// <summary>
    /// Manifests of an earlier run of their job (written before the job was last planned): never registered. After a
    /// run, such a job wrote no manifest of its own and is closed out as lost.
    /// </summary>
    public int Stale { get; init; }
    /// <summary>Jobs closed out with <see cref="ExitCodes.Lost"/> because their run wrote no manifest.</summary>
    public int Lost { get; init; }
    /// <summary>Jobs closed out with <see cref="ExitCodes.InvalidManifest"/>: their manifest failed validation (in <see cref="Failures"/> too).</summary>
    public int Rejected { get; init; }
    public int ReferenceImages { get; init; }
    public int DifferenceImages { get; init; }
    public int StampedProducts { get; init; }
    public IReadOnlyList<RegistrationFailure> Failures { get; init; } = [];
}

/// <summary>
/// Registers what jobs made, from their product manifests: each manifest is validated
/// (<see cref="ManifestValidator"/> and its pipeline's registrar), then registered in one batch, one transaction,
/// that closes the job row and records its products (the original committed each call separately and grepped logs).
/// Idempotent across stages: the manifest a job was closed with, registered again (an SQS redelivery, a retried
/// Register, an overlapping run), changes nothing, also after post-processing stamped its products; two registrations
/// of one job queue on its row. A manifest of an earlier run is never registered over a later plan of its job. A re-run
/// on the same processing date updates the same rows; reprocessing on another date makes new versions and moves vbest
/// (see the <c>*_slot</c> functions of the schema). A job whose run wrote no manifest is closed out with
/// <see cref="ExitCodes.Lost"/>; one whose manifest is invalid with <see cref="ExitCodes.InvalidManifest"/> and the
/// field named, nothing of it registered. Each registration also records its job's attempt (<see cref="ExecutionRecord"/>:
/// figures, steps, states, the files it wrote and what they derive from, the QC matches of its log, scanned with
/// <paramref name="qc"/>, by default <see cref="QcPatterns.Default"/>).
/// </summary>
public sealed class RegisterCompletedJobs(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, int parallelism = 8,
    QcPatterns? qc = null)
{
    private readonly QcPatterns _qc = qc ?? QcPatterns.Default;

    public const string MissingManifestReason = "no manifest: job crashed, was killed or timed out";

    private static readonly Dictionary<int, IJobRegistrar> Registrars = new IJobRegistrar[]
    {
        new ReferenceImageRegistrar(), new ScienceRegistrar(), new PostProcessingRegistrar(), new NightRecoveryRegistrar(),
    }.ToDictionary(r => r.Ppid);

    /// <summary>Reconcile a planned array: every job of the list, manifest or not.</summary>
    /// <param name="lostReasons">Optional per-jid reasons for jobs without a manifest (e.g. "killed by signal 9").</param>
    public async Task<RegistrationReport> RegisterJobListAsync(ObjectRef jobList, IReadOnlyDictionary<long, string>? lostReasons = null,
        CancellationToken ct = default)
    {
        var list = await Contract.ReadAsync<JobList>(store, jobList, ct);
        return await RegisterAsync(list.Jobs.Select(j => (j.Jid, j.Manifest)).ToList(), lostReasons, ct);
    }

    /// <summary>
    /// Reconcile by date: every job of the processing date (of one pipeline, or all) still open, with its manifest at
    /// the standard key. What the original's per-date registration did, without log greps.
    /// </summary>
    public async Task<RegistrationReport> RegisterOpenJobsAsync(ProcessingDate procDate, int? ppid = null,
        IReadOnlyDictionary<long, string>? lostReasons = null, CancellationToken ct = default)
    {
        List<long> jids;
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
            jids = (await conn.QueryAsync<long>(
                "select jid from jobs where procdate = @procdate and status = 0 and (@ppid::smallint is null or ppid = @ppid) order by jid",
                new { procdate = procDate.Date, ppid = (short?)ppid })).ToList();
        return await RegisterAsync(jids.Select(j => (j, keys.Manifest(procDate, j))).ToList(), lostReasons, ct);
    }

    /// <summary>
    /// Streaming: one manifest as soon as it is written (e.g. from an S3 event). A manifest anywhere but its job's own
    /// key, unreadable or invalid, is a failure; a stale one (its job was planned again since) is ignored.
    /// </summary>
    public async Task<RegistrationReport> RegisterManifestAsync(ObjectRef manifest, CancellationToken ct = default)
    {
        var read = await ReadAsync(manifest, ct);
        if (read.Manifest is null)
            return new RegistrationReport { Failures = [new RegistrationFailure(0, $"{manifest}: {read.Problem}")] };
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var outcome = await RegisterOneAsync(conn, read, manifest, ct);
        return Summarise([outcome], 0);
    }

    public async Task<RegistrationReport> RegisterAsync(IReadOnlyList<(long Jid, ObjectRef Manifest)> jobs,
        IReadOnlyDictionary<long, string>? lostReasons = null, CancellationToken ct = default)
    {
        var reads = new ManifestRead[jobs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
            async (i, token) => reads[i] = await ReadAsync(jobs[i].Manifest, token));

        // A few workers, each with one connection for its share of the manifests: opening a pooled
        // connection per manifest resets the session each time (DISCARD ALL), which costs more than
        // the registration itself.
        var outcomes = new ConcurrentBag<Outcome>();
        var queue = new ConcurrentQueue<int>(Enumerable.Range(0, jobs.Count).Where(i => reads[i].Manifest is not null));
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(parallelism, queue.Count))).Select(async _ =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            while (queue.TryDequeue(out var i))
            {
                var (m, (jid, key)) = (reads[i].Manifest!, jobs[i]);
                outcomes.Add(m.Jid != jid
                    ? Outcome.Failed(jid, $"{key}: manifest is for job {m.Jid}, not {jid}")
                    : await RegisterOneAsync(conn, reads[i], key, ct));
            }
        });
        await Task.WhenAll(workers);

        // After a run, a job without a manifest of this run is lost: none at its key, or only an earlier run's.
        var lostJobs = new Dictionary<long, string>();
        for (var i = 0; i < jobs.Count; i++)
            if (reads[i].Missing)
                lostJobs[jobs[i].Jid] = lostReasons is not null && lostReasons.TryGetValue(jobs[i].Jid, out var r)
                    ? $"{MissingManifestReason} ({r})" : MissingManifestReason;
        foreach (var stale in outcomes.Where(o => o.Kind == OutcomeKind.Stale))
            lostJobs[stale.Jid] = $"{MissingManifestReason}: {stale.Error}";
        var unparsable = jobs.Select((j, i) => (j.Jid, j.Manifest, Read: reads[i])).Where(x => x.Read is { Manifest: null, Missing: false }).ToList();

        var lost = 0;
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        {
            if (lostJobs.Count > 0)
                lost = await CloseOpenJobsAsync(conn, ExitCodes.Lost, lostJobs.OrderBy(kv => kv.Key).ToList(), ct);
            foreach (var (jid, key, read) in unparsable)
            {
                var closed = await CloseOpenJobsAsync(conn, ExitCodes.InvalidManifest, [new(jid, read.Problem!)], ct, read.Sha256);
                outcomes.Add(new Outcome(jid, closed > 0 ? OutcomeKind.Rejected : OutcomeKind.Failed, new RegisteredCounts(), $"{key}: {read.Problem}"));
            }
        }
        return Summarise(outcomes, lost);
    }

    /// <summary>
    /// A manifest as read from the store: parsed (with the checksums of its bytes and its job's log, scanned), missing, or
    /// why it could not be read.
    /// </summary>
    private sealed record ManifestRead(ProductManifest? Manifest, FileChecksum? Checksum, bool Missing, string? Problem, ScannedLog? Log = null)
    {
        public string Sha256 => Checksum?.Sha256 ?? "";
    }

    private async Task<ManifestRead> ReadAsync(ObjectRef key, CancellationToken ct)
    {
        byte[] bytes;
        try
        {
            bytes = await store.GetBytesAsync(key, ct);
        }
        catch (ObjectNotFoundException)
        {
            return new ManifestRead(null, null, true, "no manifest");
        }
        var checksum = FileChecksum.Of(bytes);
        ProductManifest manifest;
        try
        {
            manifest = Contract.Deserialize<ProductManifest>(bytes, key.ToString());
        }
        catch (InvalidDataException e)
        {
            return new ManifestRead(null, checksum, false, $"manifest unreadable: {e.Message}");
        }
        return new ManifestRead(manifest, checksum, false, null, await ReadLogAsync(manifest, ct));
    }

    /// <summary>The job's log at its standard key, scanned with the QC patterns; null when it has none (a crash before its upload).</summary>
    private async Task<ScannedLog?> ReadLogAsync(ProductManifest m, CancellationToken ct)
    {
        if (!ProcessingDate.TryParse(m.ProcDate, out var procDate) || m.Jid <= 0) return null;
        var key = keys.Log(procDate, m.Jid);
        try
        {
            var bytes = await store.GetBytesAsync(key, ct);
            return new ScannedLog(key, FileChecksum.Of(bytes), _qc.Scan(System.Text.Encoding.UTF8.GetString(bytes)));
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    private static RegistrationReport Summarise(IEnumerable<Outcome> outcomes, int lost)
    {
        var all = outcomes.ToList();
        var registered = all.Where(o => o.Kind == OutcomeKind.Registered).ToList();
        return new RegistrationReport
        {
            Registered = registered.Count,
            Unchanged = all.Count(o => o.Kind == OutcomeKind.Unchanged),
            Stale = all.Count(o => o.Kind == OutcomeKind.Stale),
            Lost = lost,
            Rejected = all.Count(o => o.Kind == OutcomeKind.Rejected),
            ReferenceImages = registered.Sum(o => o.Counts.ReferenceImages),
            DifferenceImages = registered.Sum(o => o.Counts.DifferenceImages),
            StampedProducts = registered.Sum(o => o.Counts.StampedProducts),
            Failures = all.Where(o => o.Kind is OutcomeKind.Failed or OutcomeKind.Rejected).OrderBy(o => o.Jid)
                .Select(o => new RegistrationFailure(o.Jid, o.Error!)).ToList(),
        };
    }

    private enum OutcomeKind { Registered, Unchanged, Stale, Rejected, Failed }

    private sealed record Outcome(long Jid, OutcomeKind Kind, RegisteredCounts Counts, string? Error = null)
    {
        public static Outcome Failed(long jid, string error) => new(jid, OutcomeKind.Failed, new RegisteredCounts(), error);
    }

    /// <summary>SQLSTATEs raised by <c>begin_registration</c>.</summary>
    private const string ContradictsJob = "RP001", AlreadyRegistered = "RP002", StaleManifest = "RP003", NotTheJobs = "RP004";

    private async Task<Outcome> RegisterOneAsync(NpgsqlConnection conn, ManifestRead read, ObjectRef source, CancellationToken ct)
    {
        var (m, sha) = (read.Manifest!, read.Sha256);
        // A manifest elsewhere than its job's key is not that job's: refused, the job untouched.
        if (ManifestValidator.CheckKey(m, source, keys) is { } misplaced) return Outcome.Failed(m.Jid, $"{source}: {misplaced}");
        var registrar = Registrars.GetValueOrDefault(m.Ppid);
        var violation = ManifestValidator.Validate(m, source, keys, DateTimeOffset.UtcNow)
                        ?? (m.Outcome is { } o && registrar is not null ? registrar.Validate(m, o, keys) : null);
        if (violation is not null) return await RejectAsync(conn, m.Jid, $"{source}: {violation}", sha, ct);

        var batch = new RegistrationBatch();
        AddCloseJob(batch, m, source, sha, m.Outcome is { } outcome ? registrar!.Expect(outcome) : new JobExpectations());
        if (m.Outcome is { } registered)
        {
            AddProducts(batch, m);
            registrar!.AddStatements(batch, m, registered);
        }
        ExecutionRecord.AddStatements(batch, m, source, read.Checksum!, read.Log);
        try
        {
            await conn.ExecuteAsync(new CommandDefinition(batch.Sql, batch.Args, cancellationToken: ct));
            return new Outcome(m.Jid, OutcomeKind.Registered, m.Outcome is { } counted ? registrar!.Count(counted) : new RegisteredCounts());
        }
        catch (PostgresException e) when (e.SqlState == AlreadyRegistered)
        {
            return new Outcome(m.Jid, OutcomeKind.Unchanged, new RegisteredCounts());
        }
        catch (PostgresException e) when (e.SqlState == StaleManifest)
        {
            return new Outcome(m.Jid, OutcomeKind.Stale, new RegisteredCounts(), e.MessageText);
        }
        catch (PostgresException e) when (e.SqlState == NotTheJobs)
        {
            return Outcome.Failed(m.Jid, e.MessageText);
        }
        catch (PostgresException e) when (e.SqlState == ContradictsJob)
        {
            return await RejectAsync(conn, m.Jid, e.MessageText, sha, ct);
        }
        catch (PostgresException e)
        {
            return Outcome.Failed(m.Jid, $"{source}: database rejected the registration: {e.MessageText}{(e.Detail is null ? "" : $" ({e.Detail})")}");
        }
    }

    /// <summary>An invalid manifest at its job's key: the job, if still open, is closed as failed naming the field; nothing is registered.</summary>
    private static async Task<Outcome> RejectAsync(NpgsqlConnection conn, long jid, string reason, string sha, CancellationToken ct)
    {
        var closed = await CloseOpenJobsAsync(conn, ExitCodes.InvalidManifest, [new(jid, $"manifest rejected: {reason}")], ct, sha);
        return new Outcome(jid, closed > 0 ? OutcomeKind.Rejected : OutcomeKind.Failed, new RegisteredCounts(), reason);
    }

    /// <summary>Closes the jobs still open with an exit code set by registration (lost, invalid manifest). Returns how many it closed.</summary>
    /// <remarks>Each closed job's latest attempt is closed with it, 'lost' or 'rejected' (<c>record_closed_attempt</c>).</remarks>
    private static Task<int> CloseOpenJobsAsync(NpgsqlConnection conn, int exitCode, IReadOnlyList<KeyValuePair<long, string>> jobs,
        CancellationToken ct, string? manifestSha = null) =>
        conn.ExecuteScalarAsync<int>(new CommandDefinition("""
            with closed as (
              update jobs j set status = 1, exitcode = @exitCode, reason = u.reason, ended = coalesce(j.ended, now()), manifest_sha256 = @manifestSha
              from unnest(@jids, @reasons) as u(jid, reason)
              where j.jid = u.jid and j.status = 0
              returning j.jid, j.reason)
            select count(record_closed_attempt(jid, @state, @exitCode, reason))::integer from closed
            """,
            new
            {
                exitCode, manifestSha, jids = jobs.Select(kv => kv.Key).ToArray(), reasons = jobs.Select(kv => kv.Value).ToArray(),
                state = exitCode == ExitCodes.Lost ? JobStates.Lost : JobStates.Rejected,
            },
            cancellationToken: ct));

    /// <summary>
    /// First in every batch: <c>begin_registration</c> locks and checks the job row (and stops the batch when there is
    /// nothing to do), then the job is closed with what its manifest says, and its warnings replaced.
    /// </summary>
    private static void AddCloseJob(RegistrationBatch batch, ProductManifest m, ObjectRef source, string sha, JobExpectations expect)
    {
        batch.Add("""
            with b as (select begin_registration(@jid, @ppid, @procdate, @manifestKey, @manifestSha, @started, @configSha,
                                                 @eRid, @eCheckRfid, @eRfid, @eField, @eFid, @eParent))
            update jobs set status = 1, exitcode = @exit, reason = @reason, started = @started, ended = @ended,
              elapsed = @elapsed, batch_job_id = @batch, attempt = @attempt, manifest_key = @manifestKey, manifest_sha256 = @manifestSha,
              cpu_seconds = @cpu, peak_memory_bytes = @peakMemory, software = @svTag, host = @host
            from b where jid = @jid;
            delete from jobwarnings where jid = @jid
            """,
            new
            {
                jid = m.Jid, ppid = (short)m.Ppid, procdate = m.ProcDate, manifestKey = source.ToString(), manifestSha = sha,
                started = m.Started, ended = m.Ended, configSha = m.ConfigSha256.Length == 0 ? null : m.ConfigSha256,
                eRid = expect.Rid, eCheckRfid = expect.CheckRfid, eRfid = expect.Rfid, eField = expect.Field, eFid = expect.Fid, eParent = expect.ParentJid,
                exit = m.ExitCode,
                // The summary lists a degraded job with its warnings as the reason.
                reason = m.Reason ?? (m.Warnings.Count > 0 ? string.Join("; ", m.Warnings.Select(w => w.Message)) : null),
                elapsed = (m.Ended - m.Started).TotalSeconds, batch = m.Batch.JobId, attempt = m.Batch.Attempt,
                cpu = m.Resources.CpuSeconds, peakMemory = m.Resources.PeakMemoryBytes, svTag = m.Software.Version.Trim(),
                host = m.Host.Name.Length == 0 ? null : m.Host.Name,
            });
        if (m.Warnings.Count > 0)
            batch.Add("""
                insert into jobwarnings (jid, seq, kind, message)
                select @jid, (u.ord - 1)::smallint, u.kind, u.message from unnest(@warningKinds, @warningMessages) with ordinality as u(kind, message, ord)
                """,
                new { warningKinds = m.Warnings.Select(w => JobWarningKinds.Name(w.Kind)).ToArray(), warningMessages = m.Warnings.Select(w => w.Message).ToArray() });
    }

    /// <summary>A job's product files (replacing an earlier run's), and its software version added on first sight.</summary>
    private static void AddProducts(RegistrationBatch batch, ProductManifest m)
    {
        var products = m.Products;
        batch.Add("""
            delete from jobproducts where jid = @jid;
            insert into jobproducts (jid, role, filename, sizebytes, sha256, md5)
            select @jid, * from unnest(@roles, @files, @sizes, @sha, @md5s);
            insert into swversions (cvstag) select @svTag where @svTag <> '' on conflict (cvstag) do nothing
            """,
            new
            {
                roles = products.Select(p => p.Role).ToArray(), files = products.Select(p => p.File.ToString()).ToArray(),
                sizes = products.Select(p => p.Checksum.SizeBytes).ToArray(), sha = products.Select(p => p.Checksum.Sha256).ToArray(),
                md5s = products.Select(p => p.Checksum.Md5).ToArray(),
            });
    }
}
