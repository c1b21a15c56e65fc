using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
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
    /// <summary>Files that registered stamped copies superseded, deleted from the store, and their bytes.</summary>
    public int SupersededDeleted { get; init; }
    public long SupersededBytes { get; init; }
    /// <summary>Superseded files kept, and why (a stamped copy missing or of the wrong size), or still queued because the store refused the deletion.</summary>
    public IReadOnlyList<RegistrationFailure> SupersededKept { get; init; } = [];
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
/// field named, nothing of it registered. Once a post-processing job's stamped copies are registered and verified, the
/// unstamped originals they supersede are deleted (<see cref="SupersededProducts"/>). Each registration also records its
/// job's attempt (<see cref="ExecutionRecord"/>: figures, steps, states, the files it wrote and what they derive from, the
/// QC matches of its log, scanned with <paramref name="qc"/>, by default <see cref="QcPatterns.Default"/>).
/// </summary>
/// <param name="parallelism">Batches registered at once, each on its own connection.</param>
/// <param name="batchSize">Manifests per batch (one transaction); <see cref="BatchSize"/> by default.</param>
public sealed class RegisterCompletedJobs(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, int parallelism = 4,
    QcPatterns? qc = null, int batchSize = RegisterCompletedJobs.BatchSize)
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
        return Summarise(await RegisterReadAsync([(read, manifest)], ct), 0);
    }

    public async Task<RegistrationReport> RegisterAsync(IReadOnlyList<(long Jid, ObjectRef Manifest)> jobs,
        IReadOnlyDictionary<long, string>? lostReasons = null, CancellationToken ct = default)
    {
        var reads = new ManifestRead[jobs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
            async (i, token) => reads[i] = await ReadAsync(jobs[i].Manifest, token));

        var outcomes = new ConcurrentBag<Outcome>();
        var parsed = new List<(ManifestRead Read, ObjectRef Key)>();
        for (var i = 0; i < jobs.Count; i++)
        {
            if (reads[i].Manifest is not { } m) continue;
            if (m.Jid != jobs[i].Jid) outcomes.Add(Outcome.Failed(jobs[i].Jid, $"{jobs[i].Manifest}: manifest is for job {m.Jid}, not {jobs[i].Jid}"));
            else parsed.Add((reads[i], jobs[i].Manifest));
        }
        foreach (var outcome in await RegisterReadAsync(parsed, ct)) outcomes.Add(outcome);

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
            SupersededDeleted = all.Sum(o => o.Superseded.Files),
            SupersededBytes = all.Sum(o => o.Superseded.Bytes),
            SupersededKept = all.SelectMany(o => o.Superseded.Problems).ToList(),
            Failures = all.Where(o => o.Kind is OutcomeKind.Failed or OutcomeKind.Rejected).OrderBy(o => o.Jid)
                .Select(o => new RegistrationFailure(o.Jid, o.Error!)).ToList(),
        };
    }

    /// <summary>What became of a manifest; <c>Deletions</c> carries a batch's superseded-file deletions, of no manifest.</summary>
    private enum OutcomeKind { Registered, Unchanged, Stale, Rejected, Failed, Deletions }

    private sealed record Outcome(long Jid, OutcomeKind Kind, RegisteredCounts Counts, string? Error = null)
    {
        public SupersededDeletion Superseded { get; init; } = SupersededDeletion.None;

        public static Outcome Failed(long jid, string error) => new(jid, OutcomeKind.Failed, new RegisteredCounts(), error);
    }

    /// <summary>
    /// Verdicts of <c>registration_verdict</c>: the manifest contradicts its job, is registered already, is stale; any other
    /// (RP004: not the job's) fails the manifest and leaves the job alone.
    /// </summary>
    private const string ContradictsJob = "RP001", AlreadyRegistered = "RP002", StaleManifest = "RP003";

    /// <summary>Manifests registered in one transaction: few enough that a batch retried one by one (below) stays quick.</summary>
    public const int BatchSize = 250;

    /// <summary>A manifest that passed validation, with its registrar and what its job row must agree with.</summary>
    private sealed record Valid(ManifestRead Read, ObjectRef Source, IJobRegistrar? Registrar, JobExpectations Expect)
    {
        public ProductManifest Manifest => Read.Manifest!;
    }

    /// <summary>
    /// Validates every manifest in memory first (an invalid one closes its job as failed, naming the field, and registers
    /// nothing), then registers the valid ones in batches of <see cref="BatchSize"/>, one transaction each, a few batches
    /// at a time on their own connections; the same job twice in one call is registered once per batch, in order.
    /// </summary>
    private async Task<IReadOnlyList<Outcome>> RegisterReadAsync(IReadOnlyList<(ManifestRead Read, ObjectRef Source)> manifests, CancellationToken ct)
    {
        var outcomes = new ConcurrentBag<Outcome>();
        var valid = new List<Valid>();
        var rejected = new List<(long Jid, string Reason, string Sha)>();
        var now = DateTimeOffset.UtcNow;
        foreach (var (read, source) in manifests)
        {
            var m = read.Manifest!;
            // A manifest elsewhere than its job's key is not that job's: refused, the job untouched.
            if (ManifestValidator.CheckKey(m, source, keys) is { } misplaced)
            {
                outcomes.Add(Outcome.Failed(m.Jid, $"{source}: {misplaced}"));
                continue;
            }
            var registrar = Registrars.GetValueOrDefault(m.Ppid);
            var violation = ManifestValidator.Validate(m, source, keys, now)
                            ?? (m.Outcome is { } o && registrar is not null ? registrar.Validate(m, o, keys) : null);
            if (violation is not null) rejected.Add((m.Jid, $"{source}: {violation}", read.Sha256));
            else valid.Add(new Valid(read, source, registrar, m.Outcome is { } e ? registrar!.Expect(e) : new JobExpectations()));
        }
        if (rejected.Count > 0)
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            foreach (var (jid, reason, sha) in rejected) outcomes.Add(await RejectAsync(conn, jid, reason, sha, ct));
        }

        // Software versions added on first sight, before the batches: inserted inside them, one batch's new version would make
        // every other batch wait for its commit.
        if (valid.Count > 0)
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition(
                "insert into swversions (cvstag) select distinct t from unnest(@tags) as u(t) where t <> '' order by t on conflict (cvstag) do nothing",
                new { tags = valid.Select(v => v.Manifest.Software.Version.Trim()).Distinct().ToArray() }, cancellationToken: ct));
        }

        // Batches in jid order (rows are locked in that order: two registrations at once queue instead of deadlocking); a job
        // named twice goes to a later batch. A few batches at a time, each on one connection.
        var batches = new List<List<Valid>>();
        foreach (var round in valid.GroupBy(v => v.Manifest.Jid).SelectMany(g => g.Select((v, k) => (v, k))).GroupBy(x => x.k).OrderBy(g => g.Key))
            batches.AddRange(round.Select(x => x.v).OrderBy(v => v.Manifest.Jid).Chunk(Math.Max(1, batchSize)).Select(c => c.ToList()));
        var queue = new ConcurrentQueue<List<Valid>>(batches);
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(parallelism, queue.Count))).Select(async _ =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            while (queue.TryDequeue(out var batch))
                foreach (var outcome in await RegisterBatchAsync(conn, batch, ct)) outcomes.Add(outcome);
        });
        await Task.WhenAll(workers);
        return outcomes.ToList();
    }

    /// <summary>
    /// One transaction: each manifest's verdict (<c>registration_verdict</c>, which locks its job row), then the manifests
    /// to register, their products and outcomes, then their attempts' record (<see cref="ExecutionRecord"/>), set-based.
    /// A manifest already registered changes nothing (also after post-processing stamped its products), a stale one is
    /// not registered, one that contradicts its job closes it as failed. When the database refuses the batch (a
    /// constraint, a deadlock), it is rolled back and its manifests are registered one by one, so only the one it refuses
    /// fails. After commit, the files that registered stamped copies superseded are deleted.
    /// </summary>
    private async Task<IReadOnlyList<Outcome>> RegisterBatchAsync(NpgsqlConnection conn, IReadOnlyList<Valid> batch, CancellationToken ct)
    {
        var outcomes = new List<Outcome>();
        try
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            // Committed means on disk, whatever the server's default (the embedded cluster commits asynchronously): once
            // committed, the files the batch's stamped copies superseded are deleted from the store, and a commit lost in a
            // crash would leave its registered products naming deleted files. One WAL flush per batch.
            await conn.ExecuteAsync(new CommandDefinition("set local synchronous_commit = on", transaction: tx, cancellationToken: ct));
            var verdicts = (await conn.QueryAsync<(string? Code, string? Message)>(new CommandDefinition("""
                select v.o_code, v.o_message
                from unnest(@jids, @ppids, @procdates, @manifests, @shas, @started, @configShas, @rids, @checkRfids, @rfids, @fields, @fids, @parents)
                  with ordinality as u(jid, ppid, procdate, manifest, sha, started, configsha, rid, checkrfid, rfid, field, fid, parent, ord),
                  lateral registration_verdict(u.jid, u.ppid, u.procdate, u.manifest, u.sha, u.started, u.configsha, u.rid, u.checkrfid, u.rfid,
                                               u.field, u.fid, u.parent) v
                order by u.ord
                """,
                new
                {
                    jids = batch.Select(v => v.Manifest.Jid).ToArray(), ppids = batch.Select(v => (short)v.Manifest.Ppid).ToArray(),
                    procdates = batch.Select(v => v.Manifest.ProcDate).ToArray(), manifests = batch.Select(v => v.Source.ToString()).ToArray(),
                    shas = batch.Select(v => v.Read.Sha256).ToArray(), started = batch.Select(v => v.Manifest.Started).ToArray(),
                    configShas = batch.Select(v => v.Manifest.ConfigSha256.Length == 0 ? null : v.Manifest.ConfigSha256).ToArray(),
                    rids = batch.Select(v => v.Expect.Rid).ToArray(), checkRfids = batch.Select(v => v.Expect.CheckRfid).ToArray(),
                    rfids = batch.Select(v => v.Expect.Rfid).ToArray(), fields = batch.Select(v => v.Expect.Field).ToArray(),
                    fids = batch.Select(v => v.Expect.Fid).ToArray(), parents = batch.Select(v => v.Expect.ParentJid).ToArray(),
                }, tx, cancellationToken: ct))).ToList();

            var registered = new List<Valid>();
            for (var i = 0; i < batch.Count; i++)
            {
                var (v, (code, message)) = (batch[i], verdicts[i]);
                var jid = v.Manifest.Jid;
                switch (code)
                {
                    case null:
                        registered.Add(v);
                        break;
                    case AlreadyRegistered:
                        outcomes.Add(new Outcome(jid, OutcomeKind.Unchanged, new RegisteredCounts()));
                        break;
                    case StaleManifest:
                        outcomes.Add(new Outcome(jid, OutcomeKind.Stale, new RegisteredCounts(), message));
                        break;
                    case ContradictsJob:
                        var closed = await CloseOpenJobsAsync(conn, ExitCodes.InvalidManifest, [new(jid, $"manifest rejected: {message}")], ct, v.Read.Sha256, tx);
                        outcomes.Add(new Outcome(jid, closed > 0 ? OutcomeKind.Rejected : OutcomeKind.Failed, new RegisteredCounts(), message));
                        break;
                    default:
                        outcomes.Add(Outcome.Failed(jid, message!));
                        break;
                }
            }
            // The registered manifests' jobs closed and their product files listed, set-based (one statement each for the
            // whole batch: a statement per manifest cost more to parse and plan than its rows), then each manifest's own
            // statements (a reference it co-added, the night's recovery), in one command (one round trip); its text is new
            // each time, so Dapper does not cache it.
            var own = new RegistrationBatch();
            AddClosedJobs(own, registered);
            for (var k = 0; k < registered.Count; k++)
            {
                var v = registered[k];
                if (v.Manifest.Outcome is { } result) v.Registrar!.AddStatements(own.For(k, CommonArgs(v.Manifest)), v.Manifest, result);
                outcomes.Add(new Outcome(v.Manifest.Jid, OutcomeKind.Registered,
                    v.Manifest.Outcome is { } counted ? v.Registrar!.Count(counted) : new RegisteredCounts()));
            }
            if (!own.IsEmpty)
                await conn.ExecuteAsync(new CommandDefinition(own.Sql, own.Args, tx, flags: CommandFlags.NoCache, cancellationToken: ct));
            foreach (var pipeline in registered.Where(v => v.Manifest.Outcome is not null).GroupBy(v => v.Registrar!))
            {
                var statements = new RegistrationBatch();
                pipeline.Key.AddBatchStatements(statements, pipeline.Select(v => (v.Manifest, v.Manifest.Outcome!)).ToList());
                if (!statements.IsEmpty) await conn.ExecuteAsync(new CommandDefinition(statements.Sql, statements.Args, tx, cancellationToken: ct));
            }
            await ExecutionRecord.WriteAsync(conn, tx, registered.Select(v => new RecordedManifest(v.Manifest, v.Source, v.Read.Checksum!, v.Read.Log)).ToList(), ct);
            await tx.CommitAsync(ct);
        }
        catch (PostgresException e) when (!IsServerFailure(e) && batch.Count > 1)
        {
            // One manifest the database refuses must not fail the others: one transaction each.
            var one = new List<Outcome>();
            foreach (var v in batch) one.AddRange(await RegisterBatchAsync(conn, [v], ct));
            return one;
        }
        catch (PostgresException e) when (!IsServerFailure(e))
        {
            return [Outcome.Failed(batch[0].Manifest.Jid, $"{batch[0].Source}: database rejected the registration: {e.MessageText}{(e.Detail is null ? "" : $" ({e.Detail})")}")];
        }

        // Committed: registered (or registered before, by a registration that ended before its deletions), a post-processing
        // job's stamped copies are the registered files now, so what they superseded goes; the night's recovery job, once
        // closed, frees the injection-recovery tables it may have read.
        var done = outcomes.Where(o => o.Kind is OutcomeKind.Registered or OutcomeKind.Unchanged).Select(o => o.Jid).ToHashSet();
        var superseded = new SupersededProducts(store, keys);
        var deleted = await superseded.DeletePendingAsync(conn,
            batch.Where(v => v.Manifest.Ppid == PipelineIds.PostProcessing && done.Contains(v.Manifest.Jid)).Select(v => v.Manifest.Jid).ToList(), null, ct);
        foreach (var night in batch.Where(v => v.Manifest.Ppid == PipelineIds.NightRecovery && done.Contains(v.Manifest.Jid))
                     .Select(v => v.Manifest.ProcDate).Distinct())
            deleted += await superseded.DeletePendingAsync(conn, null, ProcessingDate.Parse(night), ct);
        if (deleted.Files > 0 || deleted.Problems.Count > 0) outcomes.Add(new Outcome(0, OutcomeKind.Deletions, new RegisteredCounts()) { Superseded = deleted });
        return outcomes;
    }

    /// <summary>
    /// The server or the connection failed (connection lost, shut down, out of a resource, an internal error): no fault of
    /// the batch's manifests, so the registration stops with it (the caller names the database as unavailable) instead of
    /// failing them one by one.
    /// </summary>
    private static bool IsServerFailure(PostgresException e) => e.SqlState[..2] is "08" or "53" or "57" or "58" or "XX";

    /// <summary>An invalid manifest at its job's key: the job, if still open, is closed as failed naming the field; nothing is registered.</summary>
    private static async Task<Outcome> RejectAsync(NpgsqlConnection conn, long jid, string reason, string sha, CancellationToken ct)
    {
        var closed = await CloseOpenJobsAsync(conn, ExitCodes.InvalidManifest, [new(jid, $"manifest rejected: {reason}")], ct, sha);
        return new Outcome(jid, closed > 0 ? OutcomeKind.Rejected : OutcomeKind.Failed, new RegisteredCounts(), reason);
    }

    /// <summary>
    /// Closes the jobs still open with an exit code set by registration (lost, invalid manifest) and withdraws what an
    /// earlier run of each registered. Returns how many it closed.
    /// </summary>
    /// <remarks>Each closed job's latest attempt is closed with it, 'lost' or 'rejected' (<c>record_closed_attempt</c>).</remarks>
    private static Task<int> CloseOpenJobsAsync(NpgsqlConnection conn, int exitCode, IReadOnlyList<KeyValuePair<long, string>> jobs,
        CancellationToken ct, string? manifestSha = null, NpgsqlTransaction? tx = null) =>
        conn.ExecuteScalarAsync<int>(new CommandDefinition("""
            with closed as (
              update jobs j set status = 1, exitcode = @exitCode, reason = u.reason, ended = coalesce(j.ended, now()), manifest_sha256 = @manifestSha
              from unnest(@jids, @reasons) as u(jid, reason)
              where j.jid = u.jid and j.status = 0
              returning j.jid, j.reason)
            select count(*)::integer
            from closed, lateral withdraw_job_products(closed.jid) w, lateral record_closed_attempt(closed.jid, @state, @exitCode, closed.reason) r
            """,
            new
            {
                exitCode, manifestSha, jids = jobs.Select(kv => kv.Key).ToArray(), reasons = jobs.Select(kv => kv.Value).ToArray(),
                state = exitCode == ExitCodes.Lost ? JobStates.Lost : JobStates.Rejected,
            },
            tx, cancellationToken: ct));

    /// <summary>The values each manifest's own statements may name (<see cref="RegistrationBatch.For"/>).</summary>
    private static object CommonArgs(ProductManifest m) =>
        new { jid = m.Jid, ppid = (short)m.Ppid, procdate = m.ProcDate, svTag = m.Software.Version.Trim(), ended = m.Ended };

    /// <summary>
    /// First in a batch's statements (the verdicts have locked and checked the job rows): each job closed with what its
    /// manifest says and its warnings replaced; a job's product files (replacing an earlier run's), or, for a run without
    /// products, what an earlier run of the job registered withdrawn.
    /// </summary>
    private static void AddClosedJobs(RegistrationBatch batch, IReadOnlyList<Valid> registered)
    {
        var ms = registered.Select(v => v.Manifest).ToList();
        var warnings = ms.SelectMany(m => m.Warnings.Select((w, seq) => (m.Jid, Seq: (short)seq, Kind: JobWarningKinds.Name(w.Kind), w.Message))).ToList();
        var products = ms.Where(m => m.Outcome is not null).SelectMany(m => m.Products.Select(p => (m.Jid, Product: p))).ToList();
        batch.Add("""
            update jobs j set status = 1, exitcode = u.exit, reason = u.reason, started = u.started, ended = u.ended,
              elapsed = u.elapsed, batch_job_id = u.batch, attempt = u.attempt, manifest_key = u.manifestkey, manifest_sha256 = u.manifestsha,
              cpu_seconds = u.cpu, peak_memory_bytes = u.peak, software = u.software, host = u.host
            from unnest(@cjJids, @cjExits, @cjReasons, @cjStarted, @cjEnded, @cjElapsed, @cjBatchJobs, @cjAttempts, @cjManifestKeys,
                        @cjManifestShas, @cjCpu, @cjPeak, @cjSoftware, @cjHosts)
              as u(jid, exit, reason, started, ended, elapsed, batch, attempt, manifestkey, manifestsha, cpu, peak, software, host)
            where j.jid = u.jid;
            delete from jobwarnings where jid = any(@cjJids);
            insert into jobwarnings (jid, seq, kind, message) select * from unnest(@cjWarningJids, @cjWarningSeqs, @cjWarningKinds, @cjWarningMessages);
            select withdraw_job_products(u.jid) from unnest(@cjWithdrawn) as u(jid);
            delete from jobproducts where jid = any(@cjProductJobs);
            insert into jobproducts (jid, role, filename, sizebytes, sha256, md5)
            select * from unnest(@cjProductJids, @cjRoles, @cjFiles, @cjSizes, @cjShas, @cjMd5s)
            """,
            new
            {
                cjJids = ms.Select(m => m.Jid).ToArray(), cjExits = ms.Select(m => m.ExitCode).ToArray(),
                // The summary lists a degraded job with its warnings as the reason.
                cjReasons = ms.Select(m => m.Reason ?? (m.Warnings.Count > 0 ? string.Join("; ", m.Warnings.Select(w => w.Message)) : null)).ToArray(),
                cjStarted = ms.Select(m => m.Started).ToArray(), cjEnded = ms.Select(m => m.Ended).ToArray(),
                cjElapsed = ms.Select(m => (m.Ended - m.Started).TotalSeconds).ToArray(), cjBatchJobs = ms.Select(m => m.Batch.JobId).ToArray(),
                cjAttempts = ms.Select(m => m.Batch.Attempt).ToArray(), cjManifestKeys = registered.Select(v => v.Source.ToString()).ToArray(),
                cjManifestShas = registered.Select(v => v.Read.Sha256).ToArray(), cjCpu = ms.Select(m => m.Resources.CpuSeconds).ToArray(),
                cjPeak = ms.Select(m => m.Resources.PeakMemoryBytes).ToArray(), cjSoftware = ms.Select(m => m.Software.Version.Trim()).ToArray(),
                cjHosts = ms.Select(m => m.Host.Name.Length == 0 ? null : m.Host.Name).ToArray(),
                cjWarningJids = warnings.Select(w => w.Jid).ToArray(), cjWarningSeqs = warnings.Select(w => w.Seq).ToArray(),
                cjWarningKinds = warnings.Select(w => w.Kind).ToArray(), cjWarningMessages = warnings.Select(w => w.Message).ToArray(),
                cjWithdrawn = ms.Where(m => m.Outcome is null).Select(m => m.Jid).ToArray(),
                cjProductJobs = ms.Where(m => m.Outcome is not null).Select(m => m.Jid).ToArray(),
                cjProductJids = products.Select(p => p.Jid).ToArray(), cjRoles = products.Select(p => p.Product.Role).ToArray(),
                cjFiles = products.Select(p => p.Product.File.ToString()).ToArray(), cjSizes = products.Select(p => p.Product.Checksum.SizeBytes).ToArray(),
                cjShas = products.Select(p => p.Product.Checksum.Sha256).ToArray(), cjMd5s = products.Select(p => p.Product.Checksum.Md5).ToArray(),
            });
    }
}
