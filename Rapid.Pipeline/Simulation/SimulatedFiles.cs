using System.Globalization;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Writes the simulator's FITS files: images shaped like the OpenUniverse "lite" files (empty primary HDU,
/// IMAGE extension SCI, float32, BUNIT = 'DN', the header keywords the original pipeline reads) and truth tables
/// (BINTABLE). All writes go through FitsFile, which writes atomically.
/// </summary>
public static class SimulatedFiles
{
    public const string ImagesFolder = "images";
    public const string TruthFolder = "truth";
    public const string ObjectsTruthFile = "survey_truth.fits";
    public const string LightCurvesFile = "survey_lightcurves.fits";

    /// <summary>The OpenUniverse file name pattern: Roman_TDS_simple_model_{FILTER}_{pointing}_{sca}_lite.fits.</summary>
    public static string ImageFileName(ExposurePlan plan) =>
        $"Roman_TDS_simple_model_{plan.Filter.Name}_{plan.Pointing}_{plan.Sca}_lite.fits";

    public static string TruthFileName(ExposurePlan plan) =>
        $"Roman_TDS_simple_model_{plan.Filter.Name}_{plan.Pointing}_{plan.Sca}_truth.fits";

    /// <summary>
    /// Where the truth of an image lives relative to it, as the simulator writes them (and the ingest copies them):
    /// <c>.../images/{name}_lite.fits</c> → <c>.../truth/{name}_truth.fits</c>. Null when the key is not shaped like that.
    /// </summary>
    public static string? TruthKeyFor(string imageKey)
    {
        const string suffix = "_lite.fits";
        var folder = $"{ImagesFolder}/";
        var slash = imageKey.LastIndexOf('/');
        var parent = slash < 0 ? "" : imageKey[..(slash + 1)];
        var name = imageKey[(slash + 1)..];
        if (!name.EndsWith(suffix, StringComparison.Ordinal) || !(parent == folder || parent.EndsWith("/" + folder, StringComparison.Ordinal))) return null;
        return $"{parent[..^folder.Length]}{TruthFolder}/{name[..^suffix.Length]}_truth.fits";
    }

    public static string FormatDateObs(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);

    /// <summary>The SCI extension header of an exposure: observation keywords, detector keywords and the WCS.</summary>
    public static FitsHeader ScienceHeader(SurveySpec spec, RenderedExposure e)
    {
        var p = e.Plan;
        var h = new FitsHeader();
        h.Set("BUNIT", "DN", "data numbers per exposure");
        h.Set("TELESCOP", "ROMAN");
        h.Set("INSTRUME", "WFI");
        h.Set("DATE-OBS", FormatDateObs(p.DateObsUtc), "exposure start (UTC)");
        h.Set("MJD-OBS", p.MjdObs, "exposure start (MJD, UTC)");
        h.Set("FILTER", p.Filter.Name);
        h.Set("EXPTIME", spec.ExposureTimeSeconds, "[s] exposure time");
        h.Set("RA_TARG", p.TargetRaDeg, "[deg] pointing (focal-plane centre)");
        h.Set("DEC_TARG", p.TargetDecDeg, "[deg] pointing (focal-plane centre)");
        h.Set("SCA_NUM", (long)p.Sca);
        h.Set("ZPTMAG", e.ZeroPointMag, "AB mag = ZPTMAG - 2.5 log10(DN/s)");
        h.Set("SKY_MEAN", e.SkyDn, "[DN] mean sky per exposure");
        h.Set("PA_OBSY", p.PaDeg, "[deg] PA of image +y axis, E of N");
        h.Set("PA_FPA", p.PaDeg, "[deg] as PA_OBSY (simulated FPA not tilted)");
        h.Set("GAIN", spec.GainElectronsPerDn, "[e-/DN]");
        h.Set("RDNOISE", spec.ReadNoiseElectrons / spec.GainElectronsPerDn, "[DN] read noise (as JobConfig takes it)");
        h.Set("SATURATE", spec.SaturationDn, "[DN] clipping level");
        e.Wcs.WriteTo(h);
        h.Set("SIMULATD", true, "written by the Rapid survey simulator");
        h.Set("SIMSEED", (long)spec.Seed, "simulator seed");
        h.Set("FIELDIDX", (long)p.FieldIndex, "simulated field index (0-based)");
        h.Set("SIMEPOCH", (long)p.Epoch, "simulated epoch (0-based)");
        h.Set("POINTING", (long)p.Pointing, "exposure number in time order");
        return h;
    }

    /// <summary>The primary header of an image file: identification only (the data and its keywords are in SCI).</summary>
    public static FitsHeader PrimaryHeader(SurveySpec spec, ExposurePlan p)
    {
        var h = new FitsHeader();
        h.Set("TELESCOP", "ROMAN");
        h.Set("INSTRUME", "WFI");
        h.Set("ORIGIN", "Rapid survey simulator");
        h.Set("FILTER", p.Filter.Name);
        h.Set("DATE-OBS", FormatDateObs(p.DateObsUtc), "exposure start (UTC)");
        h.Set("SCA_NUM", (long)p.Sca);
        return h;
    }

    public static void WriteImage(string path, SurveySpec spec, RenderedExposure e, FitsHeader scienceHeader) =>
        FitsFile.WriteImageExtension(path, PrimaryHeader(spec, e.Plan), new FitsImage(e.Width, e.Height, e.Pixels, scienceHeader), "SCI");

    /// <summary>Per-image truth: ID, TYPE, RA, DEC [deg], X, Y [1-based FITS pixels of that image], MAG [AB; NaN when dark], FLUX [DN in that exposure].</summary>
    public static void WriteImageTruth(string path, string imageFileName, SurveySpec spec, RenderedExposure e)
    {
        var rows = e.Truth;
        var t = new FitsTable("TRUTH");
        t.AddColumn("ID", rows.Select(r => r.Id).ToArray());
        t.AddColumn("TYPE", rows.Select(r => SkyObject.TypeName(r.Type)).ToArray(), 9);
        t.AddColumn("RA", rows.Select(r => r.RaDeg).ToArray(), "deg");
        t.AddColumn("DEC", rows.Select(r => r.DecDeg).ToArray(), "deg");
        t.AddColumn("X", rows.Select(r => r.X).ToArray(), "pix");
        t.AddColumn("Y", rows.Select(r => r.Y).ToArray(), "pix");
        t.AddColumn("MAG", rows.Select(r => double.IsFinite(r.Mag) ? r.Mag : double.NaN).ToArray(), "mag");
        t.AddColumn("FLUX", rows.Select(r => r.FluxDn).ToArray(), "DN");
        var primary = new FitsHeader();
        primary.Set("IMAGE", imageFileName, "the image this truth describes");
        primary.Set("FILTER", e.Plan.Filter.Name);
        primary.Set("DATE-OBS", FormatDateObs(e.Plan.DateObsUtc));
        primary.Set("MJD-OBS", e.Plan.MjdObs);
        primary.Set("EXPTIME", spec.ExposureTimeSeconds, "[s]");
        FitsFile.WriteTable(path, primary, t);
    }
}
