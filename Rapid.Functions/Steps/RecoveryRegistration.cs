using Dapper;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

/// <summary>
/// Registers injection-recovery from manifests, inside the manifest's registration transaction: a science job's
/// figures and derived table (<c>recoveryjobs</c>, <c>recoveryfigures</c>) and the night's merged table and
/// completeness curves (<c>nightrecovery*</c>). Keyed on the job id and the processing date, with the rows of
/// a key replaced as a whole, so registering the same manifest twice leaves the same rows.
/// </summary>
internal static class RecoveryRegistration
{
    public const string FakeKind = "fake";
    public const string TransientKind = "transient";

    public static async Task RegisterJobAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProductManifest m, long pid, long rid, short fid,
        InjectionRecoveryResult r, ProductFile table)
    {
        await conn.ExecuteAsync("""
            insert into recoveryjobs (jid, pid, rid, fid, procdate, seed, brightmag, faintmag, maglimit, psffwhm, psfsource, matchradius,
              npositive, nunmatched, areadeg2, nmasked, filename, checksum, ended)
            values (@jid, @pid, @rid, @fid, to_date(@procdate, 'YYYYMMDD'), @Seed, @BrightMag, @FaintMag, @MagLimit, @PsfFwhmPixels, @PsfSource,
              @MatchRadiusPixels, @PositiveDetections, @UnmatchedPositive, @AreaDeg2, @FakesOnMaskedPixels, @filename, @md5, @ended)
            on conflict (jid) do update set pid = excluded.pid, rid = excluded.rid, fid = excluded.fid, procdate = excluded.procdate,
              seed = excluded.seed, brightmag = excluded.brightmag, faintmag = excluded.faintmag, maglimit = excluded.maglimit,
              psffwhm = excluded.psffwhm, psfsource = excluded.psfsource, matchradius = excluded.matchradius, npositive = excluded.npositive,
              nunmatched = excluded.nunmatched, areadeg2 = excluded.areadeg2, nmasked = excluded.nmasked, filename = excluded.filename, checksum = excluded.checksum,
              ended = excluded.ended;
            delete from recoveryfigures where jid = @jid;
            """,
            new
            {
                jid = m.Jid, pid, rid, fid, procdate = m.ProcDate, r.Seed, r.BrightMag, r.FaintMag, r.MagLimit, r.PsfFwhmPixels, r.PsfSource,
                r.MatchRadiusPixels, r.PositiveDetections, r.UnmatchedPositive, r.AreaDeg2, r.FakesOnMaskedPixels,
                filename = table.File.ToString(), md5 = table.Checksum.Md5, ended = m.Ended,
            }, tx);
        var kinds = new List<(string Kind, RecoveryFigures Figures)> { (FakeKind, r.Fakes) };
        if (r.Transients is { } t) kinds.Add((TransientKind, t));
        await conn.ExecuteAsync("""
            insert into recoveryfigures (jid, kind, ninjected, nfound, mag50, mag90, fluxbias)
            select @jid, * from unnest(@kinds, @injected, @found, @mag50, @mag90, @bias)
            """,
            new
            {
                jid = m.Jid, kinds = kinds.Select(k => k.Kind).ToArray(), injected = kinds.Select(k => k.Figures.Injected).ToArray(),
                found = kinds.Select(k => k.Figures.Found).ToArray(), mag50 = kinds.Select(k => k.Figures.Mag50).ToArray(),
                mag90 = kinds.Select(k => k.Figures.Mag90).ToArray(), bias = kinds.Select(k => k.Figures.FluxBias).ToArray(),
            }, tx);
    }

    /// <summary>A science manifest without injection-recovery: what an earlier run of the job registered goes (its figures cascade).</summary>
    public static Task ForgetJobAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long jid) =>
        conn.ExecuteAsync("delete from recoveryjobs where jid = @jid", new { jid }, tx);

    public static async Task RegisterNightAsync(NpgsqlConnection conn, NpgsqlTransaction tx, ProductManifest m, NightRecoveryResult night, ProductFile table)
    {
        var procDate = ProcessingDate.Parse(m.ProcDate).Date;
        // The night's rows are replaced as a whole (the bins and figures cascade).
        await conn.ExecuteAsync("""
            delete from nightrecovery where procdate = @procDate;
            insert into nightrecovery (procdate, jid, ntables, filename, checksum, ended) values (@procDate, @jid, @tables, @filename, @md5, @ended);
            """,
            new { procDate, jid = m.Jid, tables = night.Tables, filename = table.File.ToString(), md5 = table.Checksum.Md5, ended = m.Ended }, tx);
        var f = night.Filters;
        await conn.ExecuteAsync("""
            insert into nightrecoveryfigures (procdate, fid, kind, nimages, ninjected, nfound, mag50, mag90, fluxbias, nunmatched, areadeg2, falseposdeg2)
            select @procDate, * from unnest(@fids, @kinds, @images, @injected, @found, @mag50, @mag90, @bias, @unmatched, @area, @fp)
            """,
            new
            {
                procDate, fids = f.Select(x => (short)x.Fid).ToArray(), kinds = f.Select(x => x.Kind).ToArray(), images = f.Select(x => x.Images).ToArray(),
                injected = f.Select(x => x.Figures.Injected).ToArray(), found = f.Select(x => x.Figures.Found).ToArray(),
                mag50 = f.Select(x => x.Figures.Mag50).ToArray(), mag90 = f.Select(x => x.Figures.Mag90).ToArray(),
                bias = f.Select(x => x.Figures.FluxBias).ToArray(), unmatched = f.Select(x => x.UnmatchedPositive).ToArray(),
                area = f.Select(x => x.AreaDeg2).ToArray(), fp = f.Select(x => x.FalsePositivesPerDeg2).ToArray(),
            }, tx);
        var bins = f.SelectMany(x => x.Bins.Select(b => (x.Fid, x.Kind, Bin: b))).ToList();
        await conn.ExecuteAsync("""
            insert into nightrecoverybins (procdate, fid, kind, maglow, maghigh, ninjected, nfound, completeness, fluxbias)
            select @procDate, * from unnest(@fids, @kinds, @low, @high, @injected, @found, @completeness, @bias)
            """,
            new
            {
                procDate, fids = bins.Select(b => (short)b.Fid).ToArray(), kinds = bins.Select(b => b.Kind).ToArray(),
                low = bins.Select(b => b.Bin.MagLow).ToArray(), high = bins.Select(b => b.Bin.MagHigh).ToArray(),
                injected = bins.Select(b => b.Bin.Injected).ToArray(), found = bins.Select(b => b.Bin.Found).ToArray(),
                completeness = bins.Select(b => b.Bin.Completeness).ToArray(), bias = bins.Select(b => b.Bin.FluxBias).ToArray(),
            }, tx);
    }
}
