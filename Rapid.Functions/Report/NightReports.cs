using System.Diagnostics;
using System.Text;
using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Report.Html;

namespace Rapid.Functions.Report;

/// <summary>A written night report: where, its verdict, its size and how long it took to make.</summary>
public sealed record PublishedReport(string Location, NightVerdict Verdict, long Bytes, TimeSpan Elapsed, NightReportModel Model);

/// <summary>
/// Makes a processing date's night report: reads it (<see cref="NightReportData"/>), renders it (<see cref="NightReportPage"/>)
/// and writes it to the products bucket beside the night's products (the Summarize step) or to a file (<c>rapid report --out</c>).
/// </summary>
public sealed class NightReports(NpgsqlDataSource dataSource, IObjectStore store, ObjectKeys keys, NightReportOptions options)
{
    /// <summary>Writes the report to <see cref="ObjectKeys.NightReport"/> (one atomic put; the store's writes are atomic).</summary>
    public async Task<PublishedReport> PublishAsync(ProcessingDate procDate, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var target = keys.NightReport(procDate);
        var (model, html) = await RenderAsync(procDate, ReportLinks.InStore(target), ct);
        var bytes = Encoding.UTF8.GetBytes(html);
        await store.PutBytesAsync(target, bytes, ct);
        return new PublishedReport(target.ToString(), model.Verdict, bytes.Length, clock.Elapsed, model);
    }

    /// <summary>
    /// Writes the report to <paramref name="path"/> through a temporary name (nothing half-written on failure); links
    /// point into the directory store at <paramref name="storeRoot"/>.
    /// </summary>
    public async Task<PublishedReport> WriteFileAsync(ProcessingDate procDate, string path, string storeRoot, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"--out {path}: the directory {directory} does not exist");
        var (model, html) = await RenderAsync(procDate, ReportLinks.FromFile(full, storeRoot), ct);
        var bytes = Encoding.UTF8.GetBytes(html);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temporary, bytes, ct);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
        return new PublishedReport(full, model.Verdict, bytes.Length, clock.Elapsed, model);
    }

    public async Task<(NightReportModel Model, string Html)> RenderAsync(ProcessingDate procDate, ReportLinks links, CancellationToken ct = default)
    {
        var model = await new NightReportData(dataSource, store, keys, options).LoadAsync(procDate, ct);
        return (model, NightReportPage.Render(model, links, keys, options));
    }
}
