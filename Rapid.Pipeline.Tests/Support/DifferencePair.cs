using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Support;

/// <summary>What <see cref="DifferencePair"/> simulates; rates in DN/s, lengths in pixels, FWHMs of Moffat PSFs.</summary>
public sealed record DifferencePairSpec
{
    public int Size { get; init; } = 512;
    public int Seed { get; init; } = 1;
    public double ScienceFwhm { get; init; } = 1.3;
    public double ReferenceFwhm { get; init; } = 1.5;
    public double ScienceSkyRate { get; init; } = 1.0;
    public double ReferenceSkyRate { get; init; } = 0.6;
    public double ExposureTime { get; init; } = 139.8;
    /// <summary>The reference is as deep as this many science exposures (a co-add).</summary>
    public double ReferenceDepth { get; init; } = 9;
    public double Gain { get; init; } = 1.8;
    public double ReadNoiseDn { get; init; } = 4.4;
    /// <summary>Pixel offset and rotation (degrees) of the reference grid relative to the science grid.</summary>
    public double OffsetX { get; init; } = 0.37;
    public double OffsetY { get; init; } = -0.21;
    public double RotationDeg { get; init; } = 0.02;
    /// <summary>The science image's flux scale relative to the reference (sci = scale * ref for a constant star).</summary>
    public double ScienceFluxScale { get; init; } = 1.0;
    public int Stars { get; init; } = 150;
    /// <summary>Star rates are log-uniform between these (DN/s); the brightest saturate.</summary>
    public (double Faint, double Bright) StarRates { get; init; } = (2, 3000);
    /// <summary>Science saturation level in DN per exposure.</summary>
    public double SaturationDn { get; init; } = 100_000;
    /// <summary>Transients (science image only) on a grid of free spots, with target S/N log-uniform in this range.</summary>
    public int Transients { get; init; } = 0;
    public (double Low, double High) TransientSnr { get; init; } = (5, 60);
    /// <summary>Hot pixels of the science detector (single pixels of 1000 to 50000 DN), and cosmic-ray tracks (2 to 6 px in x).</summary>
    public int HotPixels { get; init; }
    public int CosmicRays { get; init; }
}

/// <summary>A transient put into the science image: X, Y 0-based science pixels, Rate DN/s, Snr its expected PSF-fit S/N.</summary>
public sealed record InjectedTransient(double X, double Y, double Rate, double Snr);

/// <summary>
/// A science image and a deeper reference of the same star field on grids offset by a sub-pixel shift and a small
/// rotation, both with pixel-integrated Moffat stars (<see cref="StampRenderer"/>), sky, Gaussian shot and read noise;
/// the reference is Lanczos-3 resampled onto the science grid as in the science job. Transients are only in the
/// science image, in spots at least 12 px from any star. Saturated science pixels are NaN and marked.
/// </summary>
public sealed class DifferencePair
{
    public DifferencePair(DifferencePairSpec spec)
    {
        Spec = spec;
        var n = spec.Size;
        var random = new Random(spec.Seed);
        var scienceWcs = TanSipWcs.NorthUp(150, 2, (n + 1) / 2.0, (n + 1) / 2.0, 0.11);
        var s = 0.11 / 3600;
        var (c, sn) = (Math.Cos(spec.RotationDeg * Math.PI / 180), Math.Sin(spec.RotationDeg * Math.PI / 180));
        var referenceWcs = new TanSipWcs((n + 1) / 2.0 + spec.OffsetX, (n + 1) / 2.0 + spec.OffsetY, 150, 2, -s * c, s * sn, s * sn, s * c);

        var stars = new List<(double Ra, double Dec, double Rate)>();
        var (lo, hi) = (Math.Log(spec.StarRates.Faint), Math.Log(spec.StarRates.Bright));
        for (var k = 0; k < spec.Stars; k++)
        {
            var (ra, dec) = scienceWcs.PixelToSky(1 + random.NextDouble() * (n - 1), 1 + random.NextDouble() * (n - 1));
            stars.Add((ra, dec, Math.Exp(lo + random.NextDouble() * (hi - lo))));
        }
        StarPixels = stars.Select(st => { var (x, y) = scienceWcs.SkyToPixel(st.Ra, st.Dec); return (x - 1, y - 1, st.Rate); }).ToList();

        var sciPsf = new MoffatPsf(spec.ScienceFwhm);
        var refPsf = new MoffatPsf(spec.ReferenceFwhm);
        var scienceRate = new float[n * n];
        var referenceRate = new float[n * n];
        foreach (var (ra, dec, rate) in stars)
        {
            var (xs, ys) = scienceWcs.SkyToPixel(ra, dec);
            StampRenderer.AddPointSource(scienceRate, n, n, xs - 1, ys - 1, rate * spec.ScienceFluxScale, sciPsf);
            var (xr, yr) = referenceWcs.SkyToPixel(ra, dec);
            StampRenderer.AddPointSource(referenceRate, n, n, xr - 1, yr - 1, rate, refPsf);
        }

        // Transients in free spots; the expected S/N of a PSF fit is rate * sqrt(sum p^2) / sigma_total, with sigma_total
        // the background noise of the science image plus that of the (scaled) reference.
        var transients = new List<InjectedTransient>();
        if (spec.Transients > 0)
        {
            var sciSkyVariance = (spec.ScienceSkyRate * spec.ExposureTime / spec.Gain + spec.ReadNoiseDn * spec.ReadNoiseDn) / (spec.ExposureTime * spec.ExposureTime);
            var refSkyVariance = ReferenceVariance(spec, spec.ReferenceSkyRate);
            var sumP2 = SumOfSquares(sciPsf);
            var sigma = Math.Sqrt(sciSkyVariance + spec.ScienceFluxScale * spec.ScienceFluxScale * refSkyVariance);
            var (sl, sh) = (Math.Log(spec.TransientSnr.Low), Math.Log(spec.TransientSnr.High));
            var attempts = 0;
            while (transients.Count < spec.Transients && attempts++ < 100_000)
            {
                double x = 15 + random.NextDouble() * (n - 30), y = 15 + random.NextDouble() * (n - 30);
                if (StarPixels.Any(p => Math.Abs(p.X - x) < 12 && Math.Abs(p.Y - y) < 12 && p.Rate > 0.5 * spec.StarRates.Faint)) continue;
                if (transients.Any(t => Math.Abs(t.X - x) < 14 && Math.Abs(t.Y - y) < 14)) continue;
                var snr = Math.Exp(sl + random.NextDouble() * (sh - sl));
                var rate = snr * sigma / Math.Sqrt(sumP2);
                StampRenderer.AddPointSource(scienceRate, n, n, x, y, rate, sciPsf);
                transients.Add(new InjectedTransient(x, y, rate, snr));
            }
        }
        Transients = transients;

        // Noise, in DN per exposure for the science image; the reference as a co-add of ReferenceDepth exposures.
        var science = new float[n * n];
        var scienceVariance = new float[n * n];
        var saturated = new bool[n * n];
        var t = spec.ExposureTime;
        for (var i = 0; i < science.Length; i++)
        {
            var dn = (scienceRate[i] + spec.ScienceSkyRate) * t;
            var v = dn / spec.Gain + spec.ReadNoiseDn * spec.ReadNoiseDn;
            var observed = dn + Math.Sqrt(v) * StarField.Normal(random);
            if (observed >= spec.SaturationDn) { saturated[i] = true; science[i] = scienceVariance[i] = float.NaN; continue; }
            science[i] = (float)(observed / t);
            scienceVariance[i] = (float)((Math.Abs(observed) / spec.Gain + spec.ReadNoiseDn * spec.ReadNoiseDn) / (t * t));
        }
        // Detector defects of the science exposure only: where they land on a star they are lost with it.
        for (var k = 0; k < spec.HotPixels + spec.CosmicRays; k++)
        {
            var (x, y) = (random.Next(2, n - 8), random.Next(2, n - 2));
            // Kept off the transients, whose photometry the tests judge (a defect on one is masked with it).
            if (transients.Any(tr => Math.Abs(tr.X - x - 3) < 10 && Math.Abs(tr.Y - y) < 7)) continue;
            var length = k < spec.HotPixels ? 1 : random.Next(2, 7);
            var dn = 1000 + random.NextDouble() * 49_000;
            for (var j = 0; j < length; j++)
            {
                var i = y * n + x + j;
                if (saturated[i]) continue;
                var observed = science[i] * t + dn;
                if (observed >= spec.SaturationDn) continue;
                science[i] = (float)(observed / t);
                scienceVariance[i] = (float)((Math.Abs(observed) / spec.Gain + spec.ReadNoiseDn * spec.ReadNoiseDn) / (t * t));
            }
        }
        var reference = new float[n * n];
        var referenceVariance = new float[n * n];
        for (var i = 0; i < reference.Length; i++)
        {
            var rate = referenceRate[i] + spec.ReferenceSkyRate;
            var v = ReferenceVariance(spec, rate);
            reference[i] = (float)(rate + Math.Sqrt(v) * StarField.Normal(random));
            referenceVariance[i] = (float)v;
        }

        ScienceDn = science.Select((v, i) => saturated[i] ? (float)spec.SaturationDn : (float)(v * t)).ToArray();
        ReferenceRate = reference;
        ReferenceRateVariance = referenceVariance;
        ReferenceWcs = referenceWcs;
        var header = new FitsHeader();
        referenceWcs.WriteTo(header);
        var resampled = LanczosResampler.Resample(new FitsImage(n, n, reference, header), referenceWcs, n, n, scienceWcs, referenceVariance);
        var coverage = new float[n * n];
        // Frames covering each pixel: the co-add's depth times the resampler's share of valid taps.
        for (var i = 0; i < coverage.Length; i++) coverage[i] = float.IsFinite(resampled.Pixels[i]) ? (float)(resampled.Coverage[i] * spec.ReferenceDepth) : 0;
        Input = new DifferenceImagingInput
        {
            Width = n,
            Height = n,
            Science = science,
            ScienceVariance = scienceVariance,
            Reference = resampled.Pixels,
            ReferenceVariance = resampled.Variance!,
            ReferenceCoverage = coverage,
            Saturated = saturated,
        };
        ScienceWcs = scienceWcs;
    }

    public DifferencePairSpec Spec { get; }
    /// <summary>The science image in DN per exposure as a detector writes it (saturated pixels at SaturationDn).</summary>
    public float[] ScienceDn { get; }
    /// <summary>The reference co-add on its own grid (DN/s) with its variance and WCS, before resampling.</summary>
    public float[] ReferenceRate { get; }
    public float[] ReferenceRateVariance { get; }
    public TanSipWcs ReferenceWcs { get; }
    public DifferenceImagingInput Input { get; }
    public TanSipWcs ScienceWcs { get; }
    public IReadOnlyList<InjectedTransient> Transients { get; }
    /// <summary>Every star on the science grid (0-based pixels) with its reference rate (DN/s).</summary>
    public IReadOnlyList<(double X, double Y, double Rate)> StarPixels { get; }

    /// <summary>True when (x, y) lies within <paramref name="radius"/> pixels of a saturated science pixel.</summary>
    public bool NearSaturated(double x, double y, int radius)
    {
        var n = Spec.Size;
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        for (var j = Math.Max(0, iy - radius); j <= Math.Min(n - 1, iy + radius); j++)
            for (var i = Math.Max(0, ix - radius); i <= Math.Min(n - 1, ix + radius); i++)
                if (Input.Saturated![j * n + i]) return true;
        return false;
    }

    /// <summary>Variance (DN/s)^2 of a reference co-add pixel of the given rate: ReferenceDepth exposures averaged.</summary>
    private static double ReferenceVariance(DifferencePairSpec spec, double rate)
    {
        var t = spec.ExposureTime * spec.ReferenceDepth;
        return (Math.Abs(rate) * t / spec.Gain + spec.ReferenceDepth * spec.ReadNoiseDn * spec.ReadNoiseDn) / (t * t);
    }

    private static double SumOfSquares(MoffatPsf psf)
    {
        const int h = 12;
        var stamp = new double[(2 * h + 1) * (2 * h + 1)];
        psf.FillStamp(stamp, h, 0.25, 0.25);
        return stamp.Sum(v => v * v);
    }
}
