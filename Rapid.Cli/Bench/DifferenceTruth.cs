using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Bench;

/// <summary>
/// An object whose flux differs between the science epoch and the reference: X, Y 1-based FITS pixels of the science
/// image; fluxes in DN/s (the units of the difference image). <see cref="DifferenceFluxDnPerSecond"/> is science minus
/// reference, so a source brighter in the science epoch is positive (the sign of D). <see cref="NoiseDnPerSecond"/> is
/// the 1-sigma of a PSF-fit flux at its position (NaN until <see cref="PsfFluxNoise"/> fills it);
/// <see cref="PeakScoreSigma"/> the highest S_corr of the source's sign within 1 px (sigma, positive when it shows).
/// </summary>
public sealed record TrueDifferenceSource(long Id, SkyObjectType Type, double X, double Y,
    double ScienceFluxDnPerSecond, double ReferenceFluxDnPerSecond, double NoiseDnPerSecond = double.NaN, double PeakScoreSigma = double.NaN,
    double RaDeg = double.NaN, double DecDeg = double.NaN)
{
    public double DifferenceFluxDnPerSecond => ScienceFluxDnPerSecond - ReferenceFluxDnPerSecond;

    /// <summary>|true difference flux| / noise: what a perfect PSF fit would reach.</summary>
    public double TrueSignalToNoise => Math.Abs(DifferenceFluxDnPerSecond) / NoiseDnPerSecond;
}

/// <summary>One epoch's truth: the simulator's per-image rows (FLUX in DN per exposure) and that exposure's time (s).</summary>
public sealed record EpochTruth(IReadOnlyList<TruthRow> Rows, double ExposureSeconds)
{
    /// <summary>Reads a truth file the simulator wrote (EXPTIME from its primary header).</summary>
    public static EpochTruth Read(string truthPath)
    {
        var exptime = FitsFile.ReadPrimaryHeader(truthPath).GetDouble("EXPTIME")
                      ?? throw new FitsFormatException(truthPath, "truth file has no EXPTIME");
        return new EpochTruth(SimulatedTruth.Read(truthPath), exptime);
    }

    /// <summary>The truth file beside a simulated image (…/images/X_lite.fits → …/truth/X_truth.fits).</summary>
    public static string PathFor(string imagePath)
    {
        var key = SimulatedFiles.TruthKeyFor(imagePath.Replace('\\', '/'))
                  ?? throw new ArgumentException($"bench: {imagePath} is not a simulated image (no truth file beside it)");
        return key;
    }
}

/// <summary>
/// What the difference of a science epoch against a reference co-added from earlier epochs should contain: every
/// transient and variable whose science-epoch flux differs from its reference flux. The reference flux is the mean over
/// the reference epochs (the co-add weights epochs of equal depth about equally; the simulator keeps one zero point per
/// filter), and 0 for an object absent from them (a transient before its explosion).
/// </summary>
public static class DifferenceTruth
{
    public static IReadOnlyList<TrueDifferenceSource> Changing(EpochTruth science, IReadOnlyList<EpochTruth> references)
    {
        var referenceFlux = new Dictionary<long, double>();
        foreach (var epoch in references)
            foreach (var row in epoch.Rows.Where(IsVarying))
                referenceFlux[row.Id] = referenceFlux.GetValueOrDefault(row.Id) + row.FluxDn / epoch.ExposureSeconds / references.Count;
        return science.Rows.Where(IsVarying)
            .Select(r => new TrueDifferenceSource(r.Id, r.Type, r.X, r.Y, r.FluxDn / science.ExposureSeconds, referenceFlux.GetValueOrDefault(r.Id),
                RaDeg: r.RaDeg, DecDeg: r.DecDeg))
            .Where(s => s.DifferenceFluxDnPerSecond != 0)
            .ToList();
    }

    /// <summary>Stars and galaxies of the science epoch: constant, so they should vanish from the difference.</summary>
    public static IReadOnlyList<TruthRow> Constant(EpochTruth science) => science.Rows.Where(r => !IsVarying(r)).ToList();

    private static bool IsVarying(TruthRow r) => r.Type is SkyObjectType.Transient or SkyObjectType.Variable;
}
