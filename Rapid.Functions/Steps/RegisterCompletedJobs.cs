using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>A manifest that could not be registered; its job stays open so a later run can retry.</summary>
public sealed record RegistrationFailure(long Jid, string Message);

public sealed record RegistrationReport
{
    public int Registered { get; init; }
    /// <summary>Jobs closed out with <see cref="ExitCodes.Lost"/> because their manifest is missing or unreadable.</summary>
    public int Lost { get; init; }
    public int ReferenceImages { get; init; }
    public int DifferenceImages { get; init; }
    public int StampedProducts { get; init; }
    public IReadOnlyList<RegistrationFailure> Failures { get; init; } = [];
}

/// <summary>
/// Registers what jobs made, from their product manifests: one transaction per manifest that closes
/// the job row and registers its products (the original committed each call separately and grepped
/// logs). Keyed on the job id, so registering the same manifest twice changes nothing; a re-run on the
/// same processing date updates the same rows; reprocessing on another date makes new versions and
/// moves vbest (see the <c>*_slot</c> functions of the schema). A job without a manifest is closed out
/// with exit code <see cref="ExitCodes.Lost"/>.
/// </summary>
public sealed class RegisterCompletedJobs(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, int parallelism = 8)
{
    public const string MissingManifestReason = "no manifest: job crashed, was killed or timed out";

    /// <summary>Reconcile a planned array: every job of the list, manifest or not.</summary>
    /// <param name="lostReasons">Optional per-jid reasons for jobs without a manifest (e.g. "killed by signal 9").</param>
    public async Task<RegistrationReport> RegisterJobListAsync(ObjectRef jobList, IReadOnlyDictionary<long, string>? lostReasons = null,
        CancellationToken ct = default)
    {
        var list = await Contract.ReadAsync<JobList>(store, jobList, ct);
        return await RegisterAsync(list.Jobs.Select(j => (j.Jid, j.Manifest)).ToList(), lostReasons, ct);
    }

    /// <summary>
    /// Reconcile by date: every job of the processing date (of one pipeline, or all) still open, with
    /// its manifest at the standard key. What the original's per-date registration did, without log greps.
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

    /// <summary>Streaming: one manifest as soon as it is written (e.g. from an S3 event).</summary>
    public async Task<RegistrationReport> RegisterManifestAsync(ObjectRef manifest, CancellationToken ct = default)
    {
        var m = await Contract.ReadAsync<ProductManifest>(store, manifest, ct);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var outcome = await RegisterOneAsync(conn, m, manifest, ct);
        return Summarise([outcome], 0);
    }

    public async Task<RegistrationReport> RegisterAsync(IReadOnlyList<(long Jid, ObjectRef Manifest)> jobs,
        IReadOnlyDictionary<long, string>? lostReasons = null, CancellationToken ct = default)
    {
        var manifests = new ProductManifest?[jobs.Count];
        var unreadable = new ConcurrentDictionary<long, string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs.Count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
            async (i, token) =>
            {
                var (jid, key) = jobs[i];
                try
                {
                    manifests[i] = await Contract.ReadAsync<ProductManifest>(store, key, token);
                }
                catch (ObjectNotFoundException)
                {
                    unreadable[jid] = lostReasons is not null && lostReasons.TryGetValue(jid, out var r) ? $"{MissingManifestReason} ({r})" : MissingManifestReason;
                }
                catch (InvalidDataException e)
                {
                    unreadable[jid] = $"manifest unreadable: {e.Message}";
                }
            });

        // A few workers, each with one connection for its share of the manifests: opening a pooled
        // connection per manifest resets the session each time (DISCARD ALL), which costs more than
        // the registration itself.
        var outcomes = new ConcurrentBag<Outcome>();
        var queue = new ConcurrentQueue<int>(Enumerable.Range(0, jobs.Count).Where(i => manifests[i] is not null));
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(parallelism, queue.Count))).Select(async _ =>
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            while (queue.TryDequeue(out var i))
            {
                var m = manifests[i]!;
                outcomes.Add(m.Jid != jobs[i].Jid
                    ? Outcome.Failed(jobs[i].Jid, $"{jobs[i].Manifest}: manifest is for job {m.Jid}, not {jobs[i].Jid}")
                    : await RegisterOneAsync(conn, m, jobs[i].Manifest, ct));
            }
        });
        await Task.WhenAll(workers);

        var lost = 0;
        if (!unreadable.IsEmpty)
        {
            await using var conn = await dataSource.OpenConnectionAsync(ct);
            var ordered = unreadable.OrderBy(kv => kv.Key).ToList();
            lost = await conn.ExecuteAsync("""
                update jobs j set status = 1, exitcode = @lost, reason = u.reason, ended = coalesce(j.ended, now())
                from unnest(@jids, @reasons) as u(jid, reason)
                where j.jid = u.jid and j.status = 0
                """,
                new { lost = ExitCodes.Lost, jids = ordered.Select(kv => kv.Key).ToArray(), reasons = ordered.Select(kv => kv.Value).ToArray() });
        }
        return Summarise(outcomes, lost);
    }

    private static RegistrationReport Summarise(IEnumerable<Outcome> outcomes, int lost)
    {
        var all = outcomes.ToList();
        return new RegistrationReport
        {
            Registered = all.Count(o => o.Error is null),
            Lost = lost,
            ReferenceImages = all.Count(o => o.Rfid is not null),
            DifferenceImages = all.Count(o => o.Pid is not null),
            StampedProducts = all.Sum(o => o.Stamped),
            Failures = all.Where(o => o.Error is not null).OrderBy(o => o.Jid).Select(o => new RegistrationFailure(o.Jid, o.Error!)).ToList(),
        };
    }

    private sealed record Outcome(long Jid, long? Rfid, long? Pid, int Stamped, string? Error)
    {
        public static Outcome Failed(long jid, string error) => new(jid, null, null, 0, error);
    }

    private sealed record JobRow(long Jid, short Ppid, DateOnly ProcDate, long? Rid, long? Field, short? Fid, long? ParentJid);

    private static async Task<Outcome> RegisterOneAsync(NpgsqlConnection conn, ProductManifest m, ObjectRef source, CancellationToken ct)
    {
        try
        {
            if (IsPlainScience(m))
                return await RegisterPlainScienceAsync(conn, m, source, ct);

            await using var tx = await conn.BeginTransactionAsync(ct);
            // Close the job and read back its row in one round trip; a manifest that contradicts the
            // row returns before commit, so the transaction (and the update) is rolled back.
            var job = await conn.QuerySingleOrDefaultAsync<JobRow>(
                $"update jobs {CloseJobSet} where jid = @jid returning jid, ppid, procdate, rid, field, fid, parent_jid as ParentJid",
                CloseJobArgs(m, source), tx);
            if (job is null) return Outcome.Failed(m.Jid, $"{source}: job {m.Jid} is not in the ops database");
            if (job.Ppid != m.Ppid) return Outcome.Failed(m.Jid, $"{source}: manifest says ppid {m.Ppid}, job {m.Jid} is ppid {job.Ppid}");
            if (new ProcessingDate(job.ProcDate).ToString() != m.ProcDate)
                return Outcome.Failed(m.Jid, $"{source}: manifest says procdate {m.ProcDate}, job {m.Jid} is for {new ProcessingDate(job.ProcDate)}");

            long? rfid = null, pid = null;
            var stamped = 0;
            if (ExitCodes.HasProducts(m.ExitCode))
            {
                var products = DistinctRoles(m);
                var productArgs = ProductArgs(m, products);
                var byRole = products.ToDictionary(p => p.Role);
                var hasReference = m.ReferenceImage is not null && byRole.ContainsKey(ProductRoles.ReferenceImage);
                var hasDifference = m.DifferenceImage is not null && byRole.ContainsKey(ProductRoles.DifferenceImage);

                // The usual science manifest sends its product list with the difference image (one round trip
                // fewer per manifest); otherwise the product list goes first on its own.
                if (!hasDifference || hasReference)
                    await conn.ExecuteAsync(ProductsSql, productArgs, tx);
                if (hasReference)
                    rfid = await RegisterReferenceAsync(conn, tx, m, job, m.ReferenceImage!, byRole[ProductRoles.ReferenceImage], byRole, productArgs.Get<string>("svTag"), source);
                if (hasDifference)
                    pid = await RegisterDifferenceAsync(conn, tx, m, job, m.DifferenceImage!, byRole[ProductRoles.DifferenceImage], rfid,
                        hasReference ? null : productArgs, source);
                if (m.InjectionRecovery is { } injection && pid is long p && byRole.TryGetValue(ProductRoles.InjectionRecovery, out var recoveryTable))
                    await RecoveryRegistration.RegisterJobAsync(conn, tx, m, p, job.Rid!.Value,
                        job.Fid ?? throw new ManifestRejectedException($"{source}: job {job.Jid} has no filter"), injection, recoveryTable);
                else if (job.Ppid == PipelineIds.Science)
                    await RecoveryRegistration.ForgetJobAsync(conn, tx, m.Jid);
                if (m.NightRecovery is { } night && byRole.TryGetValue(ProductRoles.NightRecovery, out var nightTable))
                    await RecoveryRegistration.RegisterNightAsync(conn, tx, m, night, nightTable);
                if (m.PostProcessing is { } post)
                    stamped = await RegisterStampedAsync(conn, tx, job, post, source);
            }
            await tx.CommitAsync(ct);
            return new Outcome(m.Jid, rfid, pid, stamped, null);
        }
        catch (ManifestRejectedException e)
        {
            return Outcome.Failed(m.Jid, e.Message);
        }
        catch (PostgresException e) when (e.SqlState == ManifestRejectedState)
        {
            return Outcome.Failed(m.Jid, e.MessageText);
        }
        catch (PostgresException e)
        {
            return Outcome.Failed(m.Jid, $"{source}: database rejected the registration: {e.MessageText}{(e.Detail is null ? "" : $" ({e.Detail})")}");
        }
    }


    /// <summary>SQLSTATE of <c>check_manifest_job</c>'s rejections (a manifest that contradicts its job).</summary>
    private const string ManifestRejectedState = "RP001";

    private const string CloseJobSet = """
        set status = 1, exitcode = @exit, reason = @reason, started = @started, ended = @ended,
          elapsed = @elapsed, batch_job_id = @batch, attempt = @attempt, manifest_key = @manifest
        """;

    private static DynamicParameters CloseJobArgs(ProductManifest m, ObjectRef source) => new(new
    {
        jid = m.Jid, exit = m.ExitCode,
        reason = m.Reason ?? (m.Warnings.Count > 0 ? string.Join("; ", m.Warnings) : null),
        started = m.Started == default ? (DateTimeOffset?)null : m.Started,
        ended = m.Ended == default ? (DateTimeOffset?)null : m.Ended,
        elapsed = m.Started == default || m.Ended == default ? (double?)null : (m.Ended - m.Started).TotalSeconds,
        batch = m.BatchJobId, attempt = m.Attempt, manifest = source.ToString(),
    });

    private static List<ProductFile> DistinctRoles(ProductManifest m) => m.Products.GroupBy(p => p.Role).Select(g => g.Last()).ToList();

    private static DynamicParameters ProductArgs(ProductManifest m, IReadOnlyList<ProductFile> products) => new(new
    {
        jid = m.Jid, roles = products.Select(p => p.Role).ToArray(), files = products.Select(p => p.File.ToString()).ToArray(),
        sizes = products.Select(p => p.Checksum.SizeBytes).ToArray(), sha = products.Select(p => p.Checksum.Sha256).ToArray(),
        md5s = products.Select(p => p.Checksum.Md5).ToArray(), svTag = m.SoftwareVersion.Trim(),
    });

    /// <summary>The usual science manifest: a difference image made on a registered reference, nothing else to register.</summary>
    private static bool IsPlainScience(ProductManifest m) =>
        m.Ppid == PipelineIds.Science && ExitCodes.HasProducts(m.ExitCode) && m.ReferenceImage is null && m.PostProcessing is null
        && m.InjectionRecovery is null
        && m.DifferenceImage is not null && m.Products.Any(p => p.Role == ProductRoles.DifferenceImage);

    /// <summary>
    /// The usual science manifest in ONE round trip (at 2069 jobs a night, round trips are the cost):
    /// the statements go as one batch, which PostgreSQL runs as one implicit transaction.
    /// <c>check_manifest_job</c> raises when the manifest contradicts its job, which rolls the whole
    /// batch back, exactly as the general path's explicit transaction does.
    /// </summary>
    private static async Task<Outcome> RegisterPlainScienceAsync(NpgsqlConnection conn, ProductManifest m, ObjectRef source, CancellationToken ct)
    {
        var products = DistinctRoles(m);
        var d = m.DifferenceImage!;
        var args = DifferenceArgs(m, d, products.Single(p => p.Role == ProductRoles.DifferenceImage), d.Rfid);
        args.AddDynamicParams(ProductArgs(m, products));
        args.AddDynamicParams(CloseJobArgs(m, source));
        args.AddDynamicParams(new { procdateText = m.ProcDate, source = source.ToString() });
        const string checkAndClose = $"""
            with checked as (select check_manifest_job(@jid, @ppid, @procdateText, @rid, @source))
            update jobs {CloseJobSet} from checked where jid = @jid;
            """;
        // A manifest without injection-recovery drops what an earlier run of the job registered (its figures cascade).
        const string noRecovery = "delete from recoveryjobs where jid = @jid;\n";
        var pid = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(checkAndClose + ProductsSql + noRecovery + DiffSql, args, cancellationToken: ct))
            ?? throw new ManifestRejectedException($"{source}: rid {d.Rid} is not in the ops database");
        return new Outcome(m.Jid, null, pid, 0, null);
    }

    private static DynamicParameters DifferenceArgs(ProductManifest m, DifferenceImageResult d, ProductFile image, long? rfid) => new(new
    {
        ppid = (short)m.Ppid, rfid, jid = m.Jid, rid = d.Rid, filename = image.File.ToString(), md5 = image.Checksum.Md5,
        d.NSources, d.NPositive, d.NNegative, d.ScaleFactor, d.DxRms, d.DyRms, d.DxMedian, d.DyMedian,
        d.BackgroundScience, d.BackgroundReference, d.FwhmScience, d.FwhmReference,
    });

    /// <summary>The difference image and its metadata in one statement; only it returns rows (the new pid).</summary>
    private const string DiffSql = """
            with d as (
              insert into diffimages (rid, expid, sca, ppid, version, vbest, rfid, jid, field, fid, mjdobs,
                ra0, dec0, ra1, dec1, ra2, dec2, ra3, dec3, ra4, dec4, filename, checksum, status, svid, hp6, hp9)
              select l.rid, l.expid, l.sca, @ppid, s.o_version, s.o_vbest, @rfid, @jid, l.field, l.fid, l.mjdobs,
                g.ra0, g.dec0, g.ra1, g.dec1, g.ra2, g.dec2, g.ra3, g.dec3, g.ra4, g.dec4, @filename, @md5, 1,
                (select svid from swversions where cvstag = @svTag), g.hp6, g.hp9
              from l2files l join l2filemeta g on g.rid = l.rid, diffimage_slot(@jid, @rid, @ppid) s
              where l.rid = @rid
              on conflict (jid) do update set rfid = excluded.rfid, filename = excluded.filename, checksum = excluded.checksum,
                status = 1, svid = excluded.svid
              returning pid, field, fid, sca)
            insert into diffimmeta (pid, nsources, npositive, nnegative, scalefacref, dxrmsfin, dyrmsfin, dxmedianfin, dymedianfin,
              bkgsci, bkgref, fwhmsci, fwhmref, field, fid, sca)
            select d.pid, @NSources, @NPositive, @NNegative, @ScaleFactor, @DxRms, @DyRms, @DxMedian, @DyMedian,
              @BackgroundScience, @BackgroundReference, @FwhmScience, @FwhmReference, d.field, d.fid, d.sca
            from d
            on conflict (pid) do update set nsources = excluded.nsources, npositive = excluded.npositive, nnegative = excluded.nnegative,
              scalefacref = excluded.scalefacref, dxrmsfin = excluded.dxrmsfin, dyrmsfin = excluded.dyrmsfin,
              dxmedianfin = excluded.dxmedianfin, dymedianfin = excluded.dymedianfin, bkgsci = excluded.bkgsci, bkgref = excluded.bkgref,
              fwhmsci = excluded.fwhmsci, fwhmref = excluded.fwhmref
            returning pid
            """;

    /// <summary>
    /// A job's product files, and its software version added on first sight (DO NOTHING takes no row
    /// lock, so parallel registrations do not queue on the shared swversions row).
    /// </summary>
    private const string ProductsSql = """
        delete from jobproducts where jid = @jid;
        insert into jobproducts (jid, role, filename, sizebytes, sha256, md5)
        select @jid, * from unnest(@roles, @files, @sizes, @sha, @md5s);
        insert into swversions (cvstag) select @svTag where @svTag <> '' on conflict (cvstag) do nothing;
        """;

    private static async Task<long> RegisterReferenceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProductManifest m, JobRow job,
        ReferenceImageResult r, ProductFile image, Dictionary<string, ProductFile> byRole, string svTag, ObjectRef source)
    {
        if (job.Ppid == PipelineIds.ReferenceImage && (job.Field != r.Field || job.Fid != r.Fid))
            throw new ManifestRejectedException($"{source}: reference image is for field {r.Field} fid {r.Fid}, job {job.Jid} planned field {job.Field} fid {job.Fid}");
        var rfid = await conn.ExecuteScalarAsync<long>("""
            insert into refimages (field, fid, ppid, version, vbest, jid, filename, checksum, status, svid, hp6, hp9)
            select @field, @fid, @ppid, s.o_version, s.o_vbest, @jid, @filename, @md5, 1,
                   (select svid from swversions where cvstag = @svTag), f.hp6, f.hp9
            from refimage_slot(@jid, @field, @fid, @ppid) s, fields f where f.field = @field
            on conflict (jid) do update set filename = excluded.filename, checksum = excluded.checksum, status = 1, svid = excluded.svid
            returning rfid
            """,
            new { field = r.Field, fid = (short)r.Fid, ppid = (short)m.Ppid, jid = m.Jid, filename = image.File.ToString(), md5 = image.Checksum.Md5, svTag }, tx);
        if (rfid == 0) throw new ManifestRejectedException($"{source}: field {r.Field} of the reference image is not in the ops database");
        await conn.ExecuteAsync("""
            insert into refimmeta (rfid, nframes, mjdobsmin, mjdobsmax, npixsat, npixnan, clmean, clstddev, cov5percent, medncov, medpixunc, fwhmmed, nsexcatsources)
            values (@rfid, @NFrames, @MjdObsMin, @MjdObsMax, @NPixSat, @NPixNan, @ClippedMean, @ClippedSigma, @Cov5Percent, @MedianCoverage,
                    @MedianPixelUncertainty, @FwhmMedian, @NSources)
            on conflict (rfid) do update set nframes = excluded.nframes, mjdobsmin = excluded.mjdobsmin, mjdobsmax = excluded.mjdobsmax,
              npixsat = excluded.npixsat, npixnan = excluded.npixnan, clmean = excluded.clmean, clstddev = excluded.clstddev,
              cov5percent = excluded.cov5percent, medncov = excluded.medncov, medpixunc = excluded.medpixunc,
              fwhmmed = excluded.fwhmmed, nsexcatsources = excluded.nsexcatsources
            """,
            new
            {
                rfid, r.NFrames, r.MjdObsMin, r.MjdObsMax, r.NPixSat, r.NPixNan, r.ClippedMean, r.ClippedSigma, r.Cov5Percent,
                r.MedianCoverage, r.MedianPixelUncertainty, r.FwhmMedian, r.NSources,
            }, tx);
        if (byRole.TryGetValue(ProductRoles.ReferenceCatalog, out var catalog))
            await conn.ExecuteAsync("""
                insert into refimcatalogs (rfid, ppid, cattype, filename, checksum, status) values (@rfid, @ppid, 1, @filename, @md5, 1)
                on conflict (rfid, ppid, cattype) do update set filename = excluded.filename, checksum = excluded.checksum, status = 1
                """, new { rfid, ppid = (short)m.Ppid, filename = catalog.File.ToString(), md5 = catalog.Checksum.Md5 }, tx);
        // Only the inputs actually co-added (the original recorded every candidate).
        await conn.ExecuteAsync("delete from refimimages where rfid = @rfid", new { rfid }, tx);
        await conn.ExecuteAsync("insert into refimimages (rfid, rid) select @rfid, unnest(@rids) on conflict do nothing",
            new { rfid, rids = r.InputRids.Distinct().ToArray() }, tx);
        return rfid;
    }

    private static async Task<long> RegisterDifferenceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProductManifest m, JobRow job,
        DifferenceImageResult d, ProductFile image, long? coaddedRfid, DynamicParameters? productArgs, ObjectRef source)
    {
        if (job.Rid != d.Rid)
            throw new ManifestRejectedException($"{source}: difference image is of rid {d.Rid}, job {job.Jid} planned rid {job.Rid}");
        var args = DifferenceArgs(m, d, image, d.Rfid ?? coaddedRfid);
        if (productArgs is not null) args.AddDynamicParams(productArgs);
        else args.Add("svTag", m.SoftwareVersion.Trim());
        // Only the last statement returns rows, so the scalar is the new pid.
        var pid = await conn.ExecuteScalarAsync<long?>(productArgs is null ? DiffSql : ProductsSql + DiffSql, args, tx)
            ?? throw new ManifestRejectedException($"{source}: rid {d.Rid} is not in the ops database");
        return pid;
    }

    /// <summary>Post-processing: the stamped, renamed copies replace the registered file names and checksums.</summary>
    private static async Task<int> RegisterStampedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, JobRow job, PostProcessingResult post, ObjectRef source)
    {
        if (job.ParentJid != post.SourceJid)
            throw new ManifestRejectedException($"{source}: stamps products of job {post.SourceJid}, job {job.Jid} was planned for job {job.ParentJid}");
        var n = 0;
        foreach (var p in post.Stamped)
        {
            var args = new { src = post.SourceJid, role = p.Role, filename = p.File.ToString(), p.Checksum.SizeBytes, p.Checksum.Sha256, p.Checksum.Md5 };
            await conn.ExecuteAsync("""
                update jobproducts set filename = @filename, sizebytes = @SizeBytes, sha256 = @Sha256, md5 = @Md5
                where jid = @src and role = @role
                """, args, tx);
            if (p.Role == ProductRoles.ReferenceImage)
                await conn.ExecuteAsync("update refimages set filename = @filename, checksum = @Md5, status = 1 where jid = @src", args, tx);
            else if (p.Role == ProductRoles.DifferenceImage)
                await conn.ExecuteAsync("update diffimages set filename = @filename, checksum = @Md5, status = 1 where jid = @src", args, tx);
            else if (p.Role == ProductRoles.InjectionRecovery)
                await conn.ExecuteAsync("update recoveryjobs set filename = @filename, checksum = @Md5 where jid = @src", args, tx);
            else if (p.Role == ProductRoles.ReferenceCatalog)
                await conn.ExecuteAsync("""
                    update refimcatalogs c set filename = @filename, checksum = @Md5, status = 1
                    from refimages r where r.rfid = c.rfid and r.jid = @src and c.cattype = 1
                    """, args, tx);
            n++;
        }
        return n;
    }
}

/// <summary>A manifest that contradicts its job row; nothing of it is registered.</summary>
internal sealed class ManifestRejectedException(string message) : Exception(message);
