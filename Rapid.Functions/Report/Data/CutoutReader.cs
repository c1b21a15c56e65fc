using System.Globalization;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Functions.Report.Plots;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation.Injection;

namespace Rapid.Functions.Report.Data;

/// <summary>
/// Cutouts of science, reference, difference and S_corr around the night's brightest detections and brightest missed
/// fakes. Reads are bounded whatever the night's size: candidates come from the catalogs of the
/// <see cref="NightReportOptions.CutoutImages"/> science jobs with the most detections and from the night's merged
/// injection-recovery table, and the stamps from at most that many images per kind.
/// </summary>
internal sealed class CutoutReader(IObjectStore store, NightReportOptions options)
{
    private const int MaxPerImage = 2;

    public sealed record Result(IReadOnlyList<CutoutSet> Sets, IReadOnlyList<string> Notes);

    private sealed record Candidate(string Kind, ImageQuality Image, double X, double Y, double? Ra, double? Dec, double Rank, string Figure);

    public async Task<Result> ReadAsync(IReadOnlyList<ImageQuality> images, IReadOnlyList<ProductFileRow> products, CancellationToken ct)
    {
        var notes = new List<string>();
        var byJob = products.ToLookup(p => p.Jid);
        using var files = new LocalFiles(store);
        var candidates = new List<Candidate>();
        candidates.AddRange(Pick(await BrightDetectionsAsync(images, byJob, files, notes, ct)));
        candidates.AddRange(Pick(await MissedFakesAsync(images, products, files, notes, ct)));

        var sets = new List<CutoutSet>();
        foreach (var image in candidates.GroupBy(c => c.Image.Jid))
        {
            var job = image.First().Image;
            var sources = new (string Title, ObjectRef? File, Func<float[], byte[]> Stretch)[]
            {
                ("science", job.ScienceFile, StampImages.Linear),
                ("reference", Role(byJob[job.Jid], ProductRoles.ResampledReference), StampImages.Linear),
                ("difference", Role(byJob[job.Jid], ProductRoles.DifferenceImage), StampImages.Symmetric),
                ("S_corr", Role(byJob[job.Jid], ProductRoles.ScoreImage), StampImages.Score),
            };
            var panels = image.Select(_ => new List<CutoutPanel>()).ToList();
            var figures = image.Select(c => c.Figure).ToList();
            foreach (var (title, file, stretch) in sources)
            {
                FitsImage? pixels = null;
                string? note = null;
                if (file is null) note = $"no {title} image registered for jid {job.Jid}";
                else
                {
                    try { pixels = FitsFile.ReadImage(await files.PathAsync(file, ct)); }
                    catch (Exception e) when (e is FitsFormatException or ObjectNotFoundException or IOException) { note = $"{file}: {e.Message}"; }
                }
                if (note is not null) notes.Add($"Cutouts of jid {job.Jid}: {note}.");
                var i = 0;
                foreach (var c in image)
                {
                    // A missed fake: how close S_corr came to a detection where it was injected (the matching radius is 1 px).
                    if (title == "S_corr" && c.Kind == CutoutKinds.MissedFake && pixels is not null && PeakNear(pixels, c.X, c.Y, 1) is double peak)
                        figures[i] += string.Create(CultureInfo.InvariantCulture, $", peak S_corr within 1 px {peak:0.0} σ");
                    panels[i++].Add(new CutoutPanel(title, pixels is null ? null : StampImages.Png(Stamp(pixels, c.X, c.Y, options.CutoutHalfWidth), 2 * options.CutoutHalfWidth + 1, stretch), note));
                }
            }
            var k = 0;
            foreach (var c in image)
                sets.Add(new CutoutSet(c.Kind, job.Jid, job.Rid, job.Filter, c.X, c.Y, c.Ra, c.Dec, figures[k], panels[k++]));
        }
        return new Result(sets.OrderBy(s => s.Kind == CutoutKinds.Detection ? 0 : 1).ToList(), notes.Distinct().ToList());
    }

    /// <summary>The brightest positive detections (highest S/N, unflagged) of the images with the most detections.</summary>
    private async Task<List<Candidate>> BrightDetectionsAsync(IReadOnlyList<ImageQuality> images, ILookup<long, ProductFileRow> products, LocalFiles files,
        List<string> notes, CancellationToken ct)
    {
        var result = new List<Candidate>();
        foreach (var image in images.Where(i => i.Sources is > 0).OrderByDescending(i => i.Sources).ThenBy(i => i.Jid).Take(options.CutoutImages))
        {
            if (Role(products[image.Jid], ProductRoles.DifferenceCatalog) is not { } catalog) continue;
            FitsTable table;
            try { table = FitsFile.ReadTable(await files.PathAsync(catalog, ct), "SOURCES"); }
            catch (Exception e) when (e is FitsFormatException or ObjectNotFoundException or IOException or KeyNotFoundException)
            {
                notes.Add($"Cutouts: the catalog of jid {image.Jid} is not readable: {e.Message}.");
                continue;
            }
            var (x, y, snr, sign) = (table.GetDoubles("X_IMAGE"), table.GetDoubles("Y_IMAGE"), table.GetDoubles("SNR"), table.GetLongs("SIGN"));
            var flags = table.HasColumn("FLAGS") ? table.GetLongs("FLAGS") : new long[table.RowCount];
            var (ra, dec) = (table.HasColumn("RA") ? table.GetDoubles("RA") : null, table.HasColumn("DEC") ? table.GetDoubles("DEC") : null);
            for (var r = 0; r < table.RowCount; r++)
            {
                if (sign[r] <= 0 || flags[r] != 0 || !double.IsFinite(snr[r])) continue;
                // X_IMAGE/Y_IMAGE are 1-based FITS pixels.
                result.Add(new Candidate(CutoutKinds.Detection, image, x[r] - 1, y[r] - 1, ra?[r], dec?[r], snr[r],
                    string.Create(CultureInfo.InvariantCulture, $"S/N {snr[r]:0.0}")));
            }
        }
        return [.. result.OrderByDescending(c => c.Rank)];
    }

    /// <summary>The brightest fakes that were not found although they fell on unmasked pixels, from the night's merged table.</summary>
    private async Task<List<Candidate>> MissedFakesAsync(IReadOnlyList<ImageQuality> images, IReadOnlyList<ProductFileRow> products, LocalFiles files,
        List<string> notes, CancellationToken ct)
    {
        if (products.FirstOrDefault(p => p.Role == ProductRoles.NightRecovery) is not { } night) return [];
        FitsTable table;
        try { table = FitsFile.ReadTable(await files.PathAsync(night.File, ct), "NIGHTRECOVERY"); }
        catch (Exception e) when (e is FitsFormatException or ObjectNotFoundException or IOException or KeyNotFoundException)
        {
            notes.Add($"Cutouts: the night's recovery table is not readable: {e.Message}.");
            return [];
        }
        var byJid = images.ToDictionary(i => i.Jid);
        var jids = table.GetLongs("JID");
        var result = new List<Candidate>();
        var row = 0;
        foreach (var e in RecoveryTable.Read(table))
        {
            var jid = jids[row++];
            if (e.Kind != "fake" || e.Row.Found || e.Masked || !byJid.TryGetValue(jid, out var image)) continue;
            var s = e.Row.Injected;
            // The table's X/Y are 1-based FITS pixels.
            result.Add(new Candidate(CutoutKinds.MissedFake, image, s.X - 1, s.Y - 1, s.RaDeg, s.DecDeg, -s.Mag,
                string.Create(CultureInfo.InvariantCulture, $"injected mag {s.Mag:0.00}, not found")));
        }
        return [.. result.OrderByDescending(c => c.Rank)];
    }

    /// <summary>The best candidates, at most <see cref="MaxPerImage"/> per image and from at most <see cref="NightReportOptions.CutoutImages"/> images.</summary>
    private IEnumerable<Candidate> Pick(IEnumerable<Candidate> ranked)
    {
        var perImage = new Dictionary<long, int>();
        var taken = 0;
        foreach (var c in ranked)
        {
            if (taken == options.Cutouts) yield break;
            var n = perImage.GetValueOrDefault(c.Image.Jid);
            if (n == MaxPerImage || (n == 0 && perImage.Count == options.CutoutImages)) continue;
            perImage[c.Image.Jid] = n + 1;
            taken++;
            yield return c;
        }
    }

    private static ObjectRef? Role(IEnumerable<ProductFileRow> products, string role) => products.FirstOrDefault(p => p.Role == role)?.File;

    /// <summary>The largest finite pixel within <paramref name="r"/> pixels (a square) of the pixel nearest (x, y); null when there is none.</summary>
    internal static double? PeakNear(FitsImage image, double x, double y, int r)
    {
        double? peak = null;
        foreach (var v in Stamp(image, x, y, r))
            if (float.IsFinite(v) && (peak is null || v > peak)) peak = v;
        return peak;
    }

    /// <summary>A (2h+1)² stamp centred on the pixel nearest (x, y); NaN outside the image.</summary>
    internal static float[] Stamp(FitsImage image, double x, double y, int h)
    {
        var side = 2 * h + 1;
        var stamp = new float[side * side];
        var (cx, cy) = ((int)Math.Round(x), (int)Math.Round(y));
        for (var j = 0; j < side; j++)
            for (var i = 0; i < side; i++)
            {
                var (px, py) = (cx - h + i, cy - h + j);
                stamp[j * side + i] = px >= 0 && py >= 0 && px < image.Width && py < image.Height ? image.Pixels[py * image.Width + px] : float.NaN;
            }
        return stamp;
    }

    /// <summary>Objects as local files: the directory store's own path, else a download to a temporary directory removed at the end.</summary>
    private sealed class LocalFiles(IObjectStore store) : IDisposable
    {
        private readonly Dictionary<ObjectRef, string> _paths = [];
        private string? _temporary;

        public async Task<string> PathAsync(ObjectRef file, CancellationToken ct)
        {
            if (store is DirectoryObjectStore directory)
            {
                var path = directory.PathOf(file);
                return File.Exists(path) ? path : throw new ObjectNotFoundException(file);
            }
            if (_paths.TryGetValue(file, out var known)) return known;
            _temporary ??= Directory.CreateTempSubdirectory("rapid-report-").FullName;
            var local = Path.Combine(_temporary, $"{_paths.Count}-{file.FileName}");
            await store.GetFileAsync(file, local, ct);
            _paths[file] = local;
            return local;
        }

        public void Dispose()
        {
            if (_temporary is not null) try { Directory.Delete(_temporary, recursive: true); } catch (IOException) { }
        }
    }
}
