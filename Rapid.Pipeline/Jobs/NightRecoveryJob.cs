using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation.Injection;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// Pipeline 18, run in the night's post-processing array: merges the science jobs' injection-recovery tables into
/// one table for the night and scores them per filter and kind (fake or truth transient): completeness versus
/// magnitude with the 50 % and 90 % completeness magnitudes, the flux bias, and the rate of positive detections
/// that match nothing put there or known to vary. It is a Batch job (not a Lambda) because reading and writing
/// FITS is the pipeline's business; the figures travel in the manifest and registration stores them.
/// </summary>
public sealed class NightRecoveryJob : PipelineJob<NightRecoverySpec, NightRecoveryOutcome>
{
    public const string TableExtension = "NIGHTRECOVERY";

    public static string FileName(string procDate) => $"rapid_injrecov_{procDate}.fits";

    protected override async Task<JobResult<NightRecoveryOutcome>> RunAsync(JobContext context, NightRecoverySpec input, CancellationToken ct)
    {
        if (!(input.BinWidthMag > 0))
            throw new JobFailedException(ExitCodes.InvalidConfig, $"job {context.Config.Jid}: completeness bin width {input.BinWidthMag} mag must be > 0");

        var merged = new List<MergedRow>();
        using (context.Log.Step("night_recovery.read"))
        {
            foreach (var table in input.Tables.OrderBy(t => t.Jid))
            {
                var local = await context.DownloadInputAsync(table.File, null, ct);
                try
                {
                    merged.AddRange(Read(local, table));
                }
                catch (Exception e) when (e is FitsFormatException or IOException or KeyNotFoundException or InvalidOperationException)
                {
                    throw JobFailedException.InvalidInput($"{table.File}: {e.Message}", e);
                }
            }
        }

        var figures = new List<NightRecoveryFigures>();
        using (context.Log.Step("night_recovery.score"))
        {
            foreach (var group in merged.GroupBy(r => (r.Table.Fid, r.Kind)).OrderBy(g => g.Key.Fid).ThenBy(g => g.Key.Kind))
            {
                var rows = group.Select(r => r.Row).ToList();
                var summary = InjectionRecovery.Summarise(rows, input.BinWidthMag);
                // Images with this filter, each counted once (also those whose table has no row of this kind).
                var images = input.Tables.Where(t => t.Fid == group.Key.Fid).ToList();
                var area = images.Sum(t => t.AreaDeg2);
                var unmatched = images.Sum(t => t.UnmatchedPositive);
                figures.Add(new NightRecoveryFigures
                {
                    Fid = group.Key.Fid, Filter = images[0].Filter, Kind = group.Key.Kind, Images = images.Count,
                    Figures = new RecoveryFigures
                    {
                        Injected = summary.Injected, Found = summary.Found, Mag50 = summary.Magnitude50, Mag90 = summary.Magnitude90,
                        FluxBias = summary.FluxBias,
                    },
                    UnmatchedPositive = unmatched, AreaDeg2 = area, FalsePositivesPerDeg2 = area > 0 ? unmatched / area : double.NaN,
                    Bins = summary.Bins.Select(b => new CompletenessBinResult(b.MagLow, b.MagHigh, b.Injected, b.Found, b.Completeness, b.FluxBias)).ToList(),
                });
                context.Log.Info($"fid {group.Key.Fid} {group.Key.Kind}: {summary.Found} of {summary.Injected} found on {images.Count} images; "
                                 + $"m50 {summary.Magnitude50:F2}, m90 {summary.Magnitude90:F2}, flux bias {summary.FluxBias:P1}");
            }
        }

        string path;
        using (context.Log.Step("night_recovery.write"))
        {
            path = context.PathInWorkDirectory(FileName(context.Config.ProcDate));
            var primary = new FitsHeader();
            primary.Set("PROCDATE", context.Config.ProcDate, "processing date");
            primary.Set("NTABLES", (long)input.Tables.Count, "science jobs' recovery tables merged");
            primary.Set("BINWIDTH", input.BinWidthMag, "[mag] completeness bin width");
            FitsFile.WriteTable(path, primary, ToTable(merged));
        }
        return new JobResult<NightRecoveryOutcome>([new LocalProduct(ProductRoles.NightRecovery, path)],
            new NightRecoveryOutcome { Filters = figures, Tables = input.Tables.Count });
    }

    private sealed record MergedRow(RecoveryTableRef Table, RecoveryTable.Entry Entry)
    {
        public string Kind => Entry.Kind;
        public RecoveryRow Row => Entry.Row;
    }

    private static IEnumerable<MergedRow> Read(string path, RecoveryTableRef table) =>
        RecoveryTable.Read(FitsFile.ReadTable(path, "RECOVERY")).Select(e => new MergedRow(table, e));

    private static FitsTable ToTable(IReadOnlyList<MergedRow> rows)
    {
        var t = new FitsTable(TableExtension);
        var filterWidth = Math.Max(1, rows.Select(r => r.Table.Filter.Length).DefaultIfEmpty(1).Max());
        t.AddColumn("JID", rows.Select(r => r.Table.Jid).ToArray());
        t.AddColumn("RID", rows.Select(r => r.Table.Rid).ToArray());
        t.AddColumn("FID", rows.Select(r => (short)r.Table.Fid).ToArray());
        t.AddColumn("FILTER", rows.Select(r => r.Table.Filter).ToArray(), filterWidth);
        RecoveryTable.AddColumns(t, rows.Select(r => r.Entry).ToList());
        return t;
    }
}
