using System.Text;
using Dapper;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Imaging;

namespace Rapid.Functions.Report.Data;

/// <summary>
/// The night report's one query layer: what the ops database (and, for logs and cutouts, the object store) holds about
/// a processing date, as a <see cref="NightReportModel"/>. Each section is one method, so a new table (attempts,
/// state changes, QC matches) adds one query here and one section to the page. Set-based queries: a 14,000-image
/// night is a handful of round trips.
/// </summary>
public sealed class NightReportData(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, NightReportOptions options)
{
    public async Task<NightReportModel> LoadAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        var jobs = await JobsAsync(procDate, ct);
        var summary = await new SummarizeNight(dataSource).SummarizeAsync(procDate, ct: ct);
        var products = await ProductsAsync(procDate, ct);
        var images = ImageVerdicts.Judge(await ImagesAsync(procDate, ct), options);
        var glance = Glance(jobs, summary, products, images);
        var failures = await FailuresAsync(procDate, jobs, ct);
        var cutouts = await new CutoutReader(store, options).ReadAsync(images, products, ct);
        return new NightReportModel
        {
            ProcDate = procDate,
            GeneratedAt = DateTimeOffset.UtcNow,
            Jobs = jobs,
            Glance = glance,
            Failures = failures,
            Images = images,
            Recovery = summary.Recovery,
            RecoveryBins = summary.RecoveryBins,
            Products = products,
            Cutouts = cutouts.Sets,
            CutoutNotes = cutouts.Notes,
            Verdict = NightVerdict.Of(glance, images),
            Attempts = await AttemptsAsync(procDate, ct),
            Qc = await QcAsync(procDate, ct),
        };
    }

    /// <summary>Attempts per pipeline (table jobattempts of the operations record).</summary>
    public async Task<IReadOnlyList<AttemptSummary>> AttemptsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<AttemptSummary>(new CommandDefinition("""
            select j.ppid::int as Ppid, count(distinct a.jid)::int as Jobs, count(*)::int as Attempts,
                   count(distinct a.jid) filter (where a.attempt > 1)::int as Resubmitted,
                   count(*) filter (where a.exitcode >= 64)::int as Failed,
                   percentile_cont(0.5) within group (order by extract(epoch from a.started - a.submitted))
                       filter (where a.started is not null and a.submitted is not null) as MedianQueueSeconds,
                   sum(a.wallseconds) as WallSeconds
            from jobattempts a join jobs j on j.jid = a.jid
            where j.procdate = @procdate group by j.ppid order by j.ppid
            """, new { procdate = procDate.Date }, cancellationToken: ct))).ToList();
    }

    /// <summary>The QC matches of the night's job logs, one row per pattern, the most severe first (view qclog).</summary>
    public async Task<IReadOnlyList<QcGroup>> QcAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(string Pattern, string Severity, string? Description, int Matches, int Jobs, long FirstJid, string FirstText, string FirstLog)>(
            new CommandDefinition("""
            select pattern, severity, min(description), count(*)::int, count(distinct jid)::int,
                   (array_agg(jid order by jid, attempt, line))[1], (array_agg(text order by jid, attempt, line))[1], (array_agg(log order by jid, attempt, line))[1]
            from qclog where procdate = @procdate
            group by pattern, severity order by qc_severity_rank(severity) desc, count(*) desc, pattern
            """, new { procdate = procDate.Date }, cancellationToken: ct));
        return rows.Select(r => new QcGroup(r.Pattern, r.Severity, r.Description, r.Matches, r.Jobs, r.FirstJid, r.FirstText,
            ObjectRef.TryParse(r.FirstLog, out var log) ? log : null)).ToList();
    }

    /// <summary>Only the night's verdict (jobs and image quality; no logs, cutouts or products): for <c>rapid status</c>.</summary>
    public async Task<NightVerdict> LoadVerdictAsync(ProcessingDate procDate, NightSummary summary, CancellationToken ct = default)
    {
        var jobs = await JobsAsync(procDate, ct);
        var images = ImageVerdicts.Judge(await ImagesAsync(procDate, ct), options);
        return NightVerdict.Of(Glance(jobs, summary, [], images), images);
    }

    /// <summary>Every job of the date with its outcome and times.</summary>
    public async Task<IReadOnlyList<JobRun>> JobsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<JobRow>(new CommandDefinition("""
            select jid as Jid, ppid as Ppid, status as Status, exitcode as ExitCode, reason as Reason, rid as Rid, field as Field,
                   fid as Fid, parent_jid as ParentJid, launched as Launched, started as Started, ended as Ended, elapsed as Elapsed,
                   cpu_seconds as CpuSeconds, peak_memory_bytes as PeakMemoryBytes
            from jobs where procdate = @procdate order by jid
            """, new { procdate = procDate.Date }, cancellationToken: ct));
        return rows.Select(r => new JobRun(r.Jid, r.Ppid, JobOutcomeClasses.Of(r.Status, r.ExitCode), r.ExitCode, r.Reason, r.Rid, r.Field, r.Fid,
            r.ParentJid, Utc(r.Launched), Utc(r.Started), Utc(r.Ended), r.Elapsed, r.CpuSeconds, r.PeakMemoryBytes)).ToList();
    }

    /// <summary>Every product file registered for the date's jobs.</summary>
    public async Task<IReadOnlyList<ProductFileRow>> ProductsAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<(long Jid, short Ppid, string Role, string FileName, long SizeBytes, string Sha256)>(new CommandDefinition("""
            select p.jid, j.ppid, p.role, p.filename, p.sizebytes, p.sha256
            from jobproducts p join jobs j on j.jid = p.jid where j.procdate = @procdate order by p.jid, p.role
            """, new { procdate = procDate.Date }, cancellationToken: ct));
        return rows.Select(r => new ProductFileRow(r.Jid, r.Ppid, r.Role, ObjectRef.Parse(r.FileName), r.SizeBytes, r.Sha256)).ToList();
    }

    /// <summary>
    /// One row per science job: the difference image's metadata, the science image's zero point (for the flux scale
    /// the zero points predict) and its injection-recovery.
    /// </summary>
    public async Task<IReadOnlyList<ImageQuality>> ImagesAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<ImageRow>(new CommandDefinition("""
            select j.jid as Jid, j.rid as Rid, d.pid as Pid, f.filter as Filter, l.filename as ScienceFile, l.field as Field, l.sca as Sca, j.status as Status,
                   j.exitcode as ExitCode, m.ra0 as Ra, m.dec0 as Dec, dm.scalefacref as FluxScale, l.zptmag as ZeroPoint,
                   dm.fwhmsci as FwhmScience, dm.fwhmref as FwhmReference, dm.dxrmsfin as DxRms, dm.dyrmsfin as DyRms,
                   dm.nsources as Sources, rf.ninjected as FakesInjected, rf.nfound as FakesFound, rf.mag50 as Mag50,
                   rf.fluxbias as FakeFluxBias, rj.nunmatched as Unexplained, rj.areadeg2 as AreaDeg2,
                   (select array_agg(w.kind || ': ' || w.message order by w.seq) from jobwarnings w where w.jid = j.jid) as Warnings
            from jobs j
            join l2files l on l.rid = j.rid
            join filters f on f.fid = l.fid
            left join l2filemeta m on m.rid = j.rid
            left join diffimages d on d.jid = j.jid
            left join diffimmeta dm on dm.pid = d.pid
            left join recoveryjobs rj on rj.jid = j.jid
            left join recoveryfigures rf on rf.jid = j.jid and rf.kind = 'fake'
            where j.procdate = @procdate and j.ppid = @ppid
            order by j.jid
            """, new { procdate = procDate.Date, ppid = (short)PipelineIds.Science }, cancellationToken: ct));
        return rows.Select(r => new ImageQuality
        {
            Jid = r.Jid, Rid = r.Rid, Pid = r.Pid, Filter = r.Filter,
            ScienceFile = ObjectRef.TryParse(r.ScienceFile, out var science) ? science : null, Field = r.Field, Sca = r.Sca,
            Outcome = JobOutcomeClasses.Of(r.Status, r.ExitCode), ExitCode = r.ExitCode, Ra = r.Ra, Dec = r.Dec,
            FluxScale = r.FluxScale,
            // The reference is resampled to the common zero point (ImageCalibration.ReferenceZeroPointMag, DN/s); the science image has ZPTMAG.
            PredictedFluxScale = r.Pid is not null && r.ZeroPoint is double zp ? Math.Pow(10, -0.4 * (ImageCalibration.ReferenceZeroPointMag - zp)) : null,
            FwhmScience = r.FwhmScience, FwhmReference = r.FwhmReference,
            AstrometricRms = r.DxRms is double dx && r.DyRms is double dy ? Math.Sqrt(dx * dx + dy * dy) : null,
            Sources = r.Sources, FakesInjected = r.FakesInjected, FakesFound = r.FakesFound, Mag50 = r.Mag50,
            FakeFluxBias = r.FakeFluxBias, Unexplained = r.Unexplained, AreaDeg2 = r.AreaDeg2, Warnings = r.Warnings ?? [],
        }).ToList();
    }

    /// <summary>Failed, lost and open jobs grouped by reason, the first job of each group with its log's tail.</summary>
    public async Task<IReadOnlyList<FailureGroup>> FailuresAsync(ProcessingDate procDate, IReadOnlyList<JobRun> jobs, CancellationToken ct = default)
    {
        var groups = FailureReasons.Group(jobs);
        var result = new List<FailureGroup>();
        foreach (var g in groups.Take(options.MaxFailureGroups))
            result.Add(new FailureGroup(g.Ppid, g.Outcome, g.ExitCode, g.Pattern, g.Jobs, await LogTailAsync(procDate, g.Jobs[0].Jid, ct)));
        return result;
    }

    /// <summary>The last lines of a job's log; a missing log is said, not an error (a job that never started has none).</summary>
    public async Task<LogExcerpt> LogTailAsync(ProcessingDate procDate, long jid, CancellationToken ct = default)
    {
        var log = keys.Log(procDate, jid);
        try
        {
            var lines = Encoding.UTF8.GetString(await store.GetBytesAsync(log, ct)).ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
            return new LogExcerpt(jid, log, lines.TakeLast(options.LogTailLines).ToList(), lines.Length > options.LogTailLines, null);
        }
        catch (ObjectNotFoundException)
        {
            return new LogExcerpt(jid, log, [], false, "no log was uploaded (the job may never have started)");
        }
    }

    private NightGlance Glance(IReadOnlyList<JobRun> jobs, NightSummary summary, IReadOnlyList<ProductFileRow> products, IReadOnlyList<ImageQuality> images)
    {
        var pipelines = jobs.GroupBy(j => j.Ppid).OrderBy(g => g.Key)
            .Select(g => new PipelineOutcomes(g.Key, g.GroupBy(j => j.Outcome).ToDictionary(o => o.Key, o => o.Count()))).ToList();
        var started = jobs.Where(j => j.Started is not null).ToList();
        var cpu = jobs.Where(j => j.CpuSeconds is not null).ToList();
        double? vcpuHours = options.JobVcpus.Count == 0 ? null
            : jobs.Sum(j => (j.ElapsedSeconds ?? 0) * options.JobVcpus.GetValueOrDefault(j.Ppid, 1)) / 3600;
        var peak = jobs.Max(j => j.PeakMemoryBytes);
        return new NightGlance(
            ScienceImages: images.Select(i => i.Rid).Distinct().Count(),
            DifferenceImages: summary.DifferenceImages,
            ReferenceImages: summary.ReferenceImages,
            SourcesFound: summary.SourcesFound,
            Pipelines: pipelines,
            ProductFiles: products.Count,
            ProductBytes: products.Sum(p => p.SizeBytes),
            FirstStart: started.Count > 0 ? started.Min(j => j.Started) : null,
            LastEnd: jobs.Max(j => j.Ended),
            JobHours: jobs.Sum(j => j.ElapsedSeconds ?? 0) / 3600,
            CpuHours: cpu.Count > 0 ? cpu.Sum(j => j.CpuSeconds!.Value) / 3600 : null,
            VcpuHours: vcpuHours,
            PeakMemoryBytes: peak,
            Warnings: summary.Warnings);
    }

    private static DateTimeOffset? Utc(DateTime? t) => t is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private sealed class JobRow
    {
        public long Jid { get; init; }
        public short Ppid { get; init; }
        public short Status { get; init; }
        public int? ExitCode { get; init; }
        public string? Reason { get; init; }
        public long? Rid { get; init; }
        public long? Field { get; init; }
        public short? Fid { get; init; }
        public long? ParentJid { get; init; }
        public DateTime? Launched { get; init; }
        public DateTime? Started { get; init; }
        public DateTime? Ended { get; init; }
        public double? Elapsed { get; init; }
        public double? CpuSeconds { get; init; }
        public long? PeakMemoryBytes { get; init; }
    }

    private sealed class ImageRow
    {
        public long Jid { get; init; }
        public long Rid { get; init; }
        public long? Pid { get; init; }
        public string Filter { get; init; } = "";
        public string? ScienceFile { get; init; }
        public long Field { get; init; }
        public short Sca { get; init; }
        public short Status { get; init; }
        public int? ExitCode { get; init; }
        public double? Ra { get; init; }
        public double? Dec { get; init; }
        public double? FluxScale { get; init; }
        public double? ZeroPoint { get; init; }
        public double? FwhmScience { get; init; }
        public double? FwhmReference { get; init; }
        public double? DxRms { get; init; }
        public double? DyRms { get; init; }
        public int? Sources { get; init; }
        public int? FakesInjected { get; init; }
        public int? FakesFound { get; init; }
        public double? Mag50 { get; init; }
        public double? FakeFluxBias { get; init; }
        public int? Unexplained { get; init; }
        public double? AreaDeg2 { get; init; }
        public string[]? Warnings { get; init; }
    }
}
