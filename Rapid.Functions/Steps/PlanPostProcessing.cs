using System.Globalization;
using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps;

/// <summary>
/// Plans post-processing (ppid 17): one job per reference or science job of the processing date that
/// registered products, to stamp the database ids into the FITS headers and copy the products to
/// their canonical names under the post-processing job's own prefix. (The original selected parents by
/// <c>ended</c> while launching by <c>launched</c>, missing jobs that ended after midnight; here the
/// processing date of the job row decides.) Parents whose product files are all stamped copies are skipped unless
/// forced; a parent re-run since it was stamped has unstamped products again and is planned. A run for a submitted science
/// or reference job (<see cref="PlanningOptions.Submission"/>) post-processes the jobs that run made (<see cref="PlanningOptions.RunId"/>).
/// </summary>
public sealed class PlanPostProcessing(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, PlanningOptions? options = null)
{
    private static readonly HashSet<string> ReferenceRoles =
        [ProductRoles.ReferenceImage, ProductRoles.ReferenceCoverage, ProductRoles.ReferenceUncertainty, ProductRoles.ReferenceCatalog];

    private readonly PlanningOptions _options = options ?? new PlanningOptions();

    public async Task<PlanResult> PlanAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var configs = await PlanConfigsAsync(conn, tx, procDate, ct);
        var writer = new JobPlanWriter(store, keys, _options);
        var list = await writer.WriteConfigsAsync(conn, tx, procDate, PipelineIds.PostProcessing, configs, ct);
        await tx.CommitAsync(ct);
        return await writer.WriteListAsync(procDate, list, 0, ct);
    }

    private async Task<IReadOnlyList<JobConfig>> PlanConfigsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProcessingDate procDate, CancellationToken ct)
    {
        var parents = (await conn.QueryAsync<Parent>("""
            select j.jid as Jid, j.ppid as Ppid,
                   r.rfid as Rfid, r.field as RfField, r.fid as RfFid, r.ppid as RfPpid, r.version as RfVersion, r.svid as RfSvid,
                   d.pid as Pid, d.rid as Rid, d.expid as Expid, d.sca as Sca, d.field as Field, d.fid as Fid, d.ppid as DPpid,
                   d.version as DVersion, d.svid as DSvid, d.rfid as DRfid, dr.version as DRfVersion,
                   not exists (select 1 from jobproducts p where p.jid = j.jid and p.filename like '%.fits' and p.stamped_by is null) as Stamped
            from jobs j
            left join refimages r on r.jid = j.jid
            left join diffimages d on d.jid = j.jid
            left join refimages dr on dr.rfid = d.rfid
            where j.procdate = @procdate and j.ppid in (12, 15) and j.status = 1
              and j.exitcode between 0 and 63 and j.exitcode <> @noReference
              and (r.rfid is not null or d.pid is not null)
              and (not @ownJobsOnly or exists (select 1 from jobattempts a where a.jid = j.jid and a.runid = @runid))
            order by j.jid
            """, new
            {
                procdate = procDate.Date, noReference = ExitCodes.NoReferenceImage,
                ownJobsOnly = SubmittedJob.OwnJobsOnly(_options.Submission), runid = _options.RunId,
            }, tx))
            .Where(p => _options.Force || !p.Stamped).ToList();

        var products = (await conn.QueryAsync<(long Jid, string Role, string FileName)>(
            "select jid, role, filename from jobproducts where jid = any(@jids) order by jid, role",
            new { jids = parents.Select(p => p.Jid).ToArray() }, tx)).ToLookup(p => p.Jid);

        var jobs = (await conn.QueryAsync<(long Jid, long ParentJid)>("""
            insert into jobs (ppid, procdate, parent_jid, rid, expid, sca, field, fid, launched)
            select 17, @procdate, j.jid, j.rid, j.expid, j.sca, j.field, j.fid, now()
            from unnest(@parents) as u(jid) join jobs j on j.jid = u.jid
            on conflict (ppid, procdate, parent_jid) where ppid = 17 do update
              set status = 0, exitcode = null, reason = null, started = null, ended = null, elapsed = null,
                  batch_job_id = null, attempt = null, launched = excluded.launched
            returning jid, parent_jid
            """, new { procdate = procDate.Date, parents = parents.Select(p => p.Jid).ToArray() }, tx))
            .ToDictionary(j => j.ParentJid, j => j.Jid);

        var configs = parents.Select(p =>
        {
            var jid = jobs[p.Jid];
            var toStamp = products[p.Jid]
                .Where(f => f.FileName.EndsWith(".fits", StringComparison.OrdinalIgnoreCase))
                .Select(f => Stamp(procDate, jid, p, f.Role, ObjectRef.Parse(f.FileName)))
                .OfType<ProductToStamp>().ToList();
            return new JobConfig
            {
                Jid = jid, ProcDate = procDate.ToString(),
                Spec = new PostProcessingSpec { SourceJid = p.Jid, SourcePpid = p.Ppid, Products = toStamp },
                Settings = _options.Pipeline,
                SettingsProfile = _options.SettingsProfile,
            };
        }).ToList();
        return configs;
    }

    private ProductToStamp? Stamp(ProcessingDate procDate, long postJid, Parent p, string role, ObjectRef source)
    {
        var kw = new Dictionary<string, string>();
        string name;
        if (ReferenceRoles.Contains(role))
        {
            if (p.Rfid is not { } rfid) return null;
            kw["RFID"] = Text(rfid);
            kw["RFIMVER"] = Text(p.RfVersion!.Value);
            kw["PPID"] = Text(p.RfPpid!.Value);
            kw["FIELD"] = Text(p.RfField!.Value);
            kw["FID"] = Text(p.RfFid!.Value);
            if (p.RfSvid is { } sv) kw["SVID"] = Text(sv);
            name = CanonicalNames.ReferenceImage(p.RfField.Value, p.RfFid.Value, p.RfPpid.Value, p.RfVersion.Value, rfid, role);
        }
        else
        {
            if (p.Pid is not { } pid) return null;
            kw["PID"] = Text(pid);
            kw["DIFIMVER"] = Text(p.DVersion!.Value);
            kw["RID"] = Text(p.Rid!.Value);
            kw["EXPID"] = Text(p.Expid!.Value);
            kw["SCA"] = Text(p.Sca!.Value);
            kw["FID"] = Text(p.Fid!.Value);
            kw["FIELD"] = Text(p.Field!.Value);
            kw["PPID"] = Text(p.DPpid!.Value);
            if (p.DRfid is { } rf) { kw["RFID"] = Text(rf); kw["RFIMVER"] = Text(p.DRfVersion!.Value); }
            if (p.DSvid is { } sv) kw["SVID"] = Text(sv);
            name = CanonicalNames.DifferenceImage(p.Field.Value, p.Fid.Value, p.Sca.Value, p.Rid.Value, p.DPpid.Value, p.DVersion.Value, pid, role);
        }
        return new ProductToStamp { Role = role, Source = source, Target = keys.Product(procDate, postJid, name), Keywords = kw };
    }

    private static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);

    private sealed record Parent(long Jid, short Ppid,
        long? Rfid, long? RfField, short? RfFid, short? RfPpid, int? RfVersion, int? RfSvid,
        long? Pid, long? Rid, long? Expid, short? Sca, long? Field, short? Fid, short? DPpid, int? DVersion, int? DSvid, long? DRfid, int? DRfVersion,
        bool Stamped);
}
