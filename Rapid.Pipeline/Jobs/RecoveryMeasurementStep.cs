using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Simulation.Injection;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// After detection: tabulates what the injected sources gave (<see cref="FakeSourceInjection.Recovered"/>, measured
/// apart from the products) and, on simulated data, matches the simulator's shining transients from the truth catalog
/// next to the L2 file to the catalog's positive detections; writes the job's derived table
/// (<see cref="ProductRoles.InjectionRecovery"/>) and returns the figures for the manifest.
/// Detections are given as <see cref="DetectedSource"/> (1-based FITS pixels, flux and error in DN/s), so this
/// step does not depend on the catalog's type.
/// </summary>
public static class RecoveryMeasurementStep
{
    public const string TableFileName = "injrecov.fits";
    public const string FakeKind = "fake";
    public const string TransientKind = "transient";
    /// <summary>Per-job completeness bins (mag); the night's table uses finer ones over many more sources.</summary>
    public const double JobBinWidthMag = 0.5;

    /// <summary>Null (and nothing written) when nothing was injected.</summary>
    /// <param name="searched">The image detection ran on, science-sized (NaN where masked): it gives the searched area and which sources fell on masked pixels.</param>
    public static async Task<InjectionRecoveryResult?> MeasureAsync(JobContext context, FakeSourceInjection? injection, CalibratedImage science,
        float[] searched, IReadOnlyList<DetectedSource> positiveDetections, ICollection<LocalProduct> products, CancellationToken ct)
    {
        if (searched.Length != science.Rate.Length)
            throw new ArgumentException($"the searched image has {searched.Length} pixels, the science image {science.Rate.Length}");
        if (injection is null) return null;
        using var step = context.Log.Step("fake_sources.recover");
        var toRate = 1.0 / injection.ExposureTimeSeconds;
        var radius = injection.MatchRadiusPixels;
        var fakes = injection.Sources.Select((s, i) => Row(s, s.FluxDn * toRate, i < injection.Recovered.Count ? injection.Recovered[i] : null)).ToList();

        var truth = await ReadTruthAsync(context, science, ct);
        IReadOnlyList<RecoveryRow>? transients = null;
        if (truth is not null)
            transients = InjectionRecovery.Match(SimulatedTruth.TransientsToRecover(truth), positiveDetections, radius, toRate);

        // Every detection near something known to change (truth transient or variable) is explained; the fakes are not in
        // the catalog.
        var explained = (truth ?? []).Where(t => t.Type is SkyObjectType.Transient or SkyObjectType.Variable).Select(t => (t.X, t.Y)).ToList();
        var r2 = radius * radius;
        var unmatched = positiveDetections.Count(d => !explained.Any(e => (e.X - d.X) * (e.X - d.X) + (e.Y - d.Y) * (e.Y - d.Y) <= r2));
        var scaleDeg = science.Wcs.PixelScaleArcsec / 3600.0;
        var areaDeg2 = searched.Count(float.IsFinite) * scaleDeg * scaleDeg;
        bool Masked(RecoveryRow r) => IsMasked(searched, science.Width, science.Height, r.Injected.X, r.Injected.Y);
        var masked = fakes.Count(Masked);

        var path = context.PathInWorkDirectory(TableFileName);
        var primary = new FitsHeader();
        var l2 = context.Spec<ScienceSpec>().Science;
        primary.Set("RID", l2.Rid, "rid of the science image");
        if (science.Header.GetString("FILTER") is string filter) primary.Set("FILTER", filter);
        if (double.IsFinite(science.MjdObs)) primary.Set("MJD-OBS", science.MjdObs);
        primary.Set("SEED", injection.Seed, "fake-source seed");
        primary.Set("MAGLIM", injection.MagLimit, "estimated 5-sigma point-source limit (AB)");
        primary.Set("MAGBRT", injection.BrightMag, "brightest injected magnitude range end");
        primary.Set("MAGFNT", injection.FaintMag, "faintest injected magnitude range end");
        primary.Set("PSFFWHM", injection.PsfFwhmPixels, "[pix] FWHM of the injected ePSF");
        primary.Set("PSFSRC", injection.PsfSource, "science: the science image's ePSF; model: a fallback");
        primary.Set("MATCHRAD", radius, "[pix] match radius");
        primary.Set("NPOSDET", (long)positiveDetections.Count, "positive detections on the difference image");
        primary.Set("NUNMATCH", (long)unmatched, "positive detections matching no truth object");
        primary.Set("AREADEG2", areaDeg2, "[deg2] area searched (valid difference pixels)");
        primary.Set("NMASKED", (long)masked, "fakes that fell on masked difference pixels");
        FitsFile.WriteTable(path, primary, ToTable(fakes, transients ?? [], Masked));
        products.Add(new LocalProduct(ProductRoles.InjectionRecovery, path));

        var result = new InjectionRecoveryResult
        {
            Seed = injection.Seed, BrightMag = injection.BrightMag, FaintMag = injection.FaintMag, MagLimit = injection.MagLimit,
            PsfFwhmPixels = injection.PsfFwhmPixels, PsfSource = injection.PsfSource, MatchRadiusPixels = radius,
            Fakes = Figures(fakes), Transients = transients is null ? null : Figures(transients),
            PositiveDetections = positiveDetections.Count, UnmatchedPositive = unmatched, AreaDeg2 = areaDeg2, FakesOnMaskedPixels = masked,
        };
        context.Log.Info($"fake sources: {result.Fakes.Found} of {result.Fakes.Injected} found (m50 {Show(result.Fakes.Mag50)}, m90 {Show(result.Fakes.Mag90)}, "
                         + $"flux bias {result.Fakes.FluxBias:P1}; {masked} on masked pixels); {unmatched} of {positiveDetections.Count} positive detections unexplained"
                         + (result.Transients is { } tr ? $"; truth transients {tr.Found} of {tr.Injected} found" : ""));
        return result;
    }

    /// <summary>The truth catalog of a simulated image, found beside its L2 file in the object store; null for real data or when it is absent.</summary>
    private static async Task<IReadOnlyList<TruthRow>?> ReadTruthAsync(JobContext context, CalibratedImage science, CancellationToken ct)
    {
        var l2 = context.Spec<ScienceSpec>().Science;
        if (science.Header.GetBool("SIMULATD") != true) return null;
        if (SimulatedFiles.TruthKeyFor(l2.File.Key) is not string key) return null;
        var source = new ObjectRef(l2.File.Bucket, key);
        var local = Path.Combine(Directory.CreateDirectory(context.PathInWorkDirectory("truth")).FullName, source.FileName);
        try
        {
            await context.Store.GetFileAsync(source, local, ct);
            return SimulatedTruth.Read(local);
        }
        catch (ObjectNotFoundException)
        {
            context.Log.Info($"simulated image without its truth catalog {source}: transients not scored");
            return null;
        }
        catch (Exception e) when (e is FitsFormatException or IOException)
        {
            context.Log.Info($"truth catalog {source} unreadable ({e.Message}): transients not scored");
            return null;
        }
    }

    /// <summary>An injected source and the detection measured for it (null: not found), 1-based positions.</summary>
    private static RecoveryRow Row(InjectedSource s, double flux, Subtraction.DifferenceSource? found)
    {
        if (found is null) return new RecoveryRow(s, flux, false, double.NaN, double.NaN, double.NaN, double.NaN);
        var separation = Math.Sqrt((found.X + 1 - s.X) * (found.X + 1 - s.X) + (found.Y + 1 - s.Y) * (found.Y + 1 - s.Y));
        return new RecoveryRow(s, flux, true, found.Flux, found.FluxError, found.FluxError > 0 ? found.Flux / found.FluxError : double.NaN, separation);
    }

    private static RecoveryFigures Figures(IReadOnlyList<RecoveryRow> rows)
    {
        var s = InjectionRecovery.Summarise(rows, JobBinWidthMag);
        return new RecoveryFigures { Injected = s.Injected, Found = s.Found, Mag50 = s.Magnitude50, Mag90 = s.Magnitude90, FluxBias = s.FluxBias };
    }

    /// <summary>Whether the pixel under a source (1-based FITS position) is masked (NaN) or off the image.</summary>
    private static bool IsMasked(float[] image, int width, int height, double x, double y)
    {
        var (i, j) = ((int)Math.Round(x - 1), (int)Math.Round(y - 1));
        return i < 0 || j < 0 || i >= width || j >= height || !float.IsFinite(image[j * width + i]);
    }

    /// <summary>
    /// The derived table: one row per source to recover; KIND fake or transient; fluxes DN/s; measured values NaN when
    /// not found; MASKED 1 when the source fell on a masked pixel of the searched image (it could not be found).
    /// </summary>
    internal static FitsTable ToTable(IReadOnlyList<RecoveryRow> fakes, IReadOnlyList<RecoveryRow> transients, Func<RecoveryRow, bool>? masked = null)
    {
        var t = new FitsTable("RECOVERY");
        RecoveryTable.AddColumns(t, fakes.Select(r => new RecoveryTable.Entry(FakeKind, r, masked?.Invoke(r) == true))
            .Concat(transients.Select(r => new RecoveryTable.Entry(TransientKind, r, masked?.Invoke(r) == true))).ToList());
        return t;
    }

    private static string Show(double? mag) => mag is double m ? m.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) : "-";
}
