using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Imaging;

/// <summary>An input image that cannot be used (no EXPTIME, all NaN, ...); the message names the file.</summary>
public sealed class InvalidImageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// An image in count rate: Rate in DN/s (NaN where saturated or invalid), Variance in (DN/s)², with its WCS
/// and header. ZeroPointMag is the magnitude zero point of Rate (mag = −2.5·log10(DN/s) + ZeroPointMag),
/// null when the file had no ZPTMAG.
/// </summary>
public sealed class CalibratedImage
{
    public required string Source { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required float[] Rate { get; init; }
    public required float[] Variance { get; init; }
    public required TanSipWcs Wcs { get; init; }
    public required FitsHeader Header { get; init; }
    public double ExpTime { get; init; }
    public double MjdObs { get; init; }
    public double? ZeroPointMag { get; init; }
    public long SaturatedPixels { get; init; }
    /// <summary>True at the pixels that were at or above SATURATE (they are NaN in Rate); null when none were.</summary>
    public bool[]? Saturated { get; init; }

    /// <summary>The rate image as a FITS image carrying this image's header (and so its WCS).</summary>
    public FitsImage ToFitsImage() => new(Width, Height, Rate, Header.Clone());
}

/// <summary>
/// DN → DN/s and an uncertainty image, as the original's science pipeline prepares its inputs:
/// rate = DN / EXPTIME; σ(rate) = sqrt(|DN|/GAIN + RDNOISE²) / EXPTIME (GAIN in e-/DN, RDNOISE in DN, each under any
/// of the names <see cref="DetectorKeywords"/> lists, settings' defaults when none is present; a present but unusable
/// value is an error naming it). Pixels at or above the saturation level (DN) become NaN. The observation time is
/// required (MJD-OBS, DATE-OBS or a named alternative) and written back as MJD-OBS.
/// With a target zero point, the rate is scaled by 10^(0.4·(target − ZPTMAG)) as the original scales
/// co-add inputs to a common zero point of 17 mag (ZPTMAG is taken to refer to DN/s).
/// </summary>
public static class ImageCalibration
{
    /// <summary>The common zero point the original system scales reference inputs to.</summary>
    public const double ReferenceZeroPointMag = 17.0;

    /// <param name="path">Local FITS file.</param>
    /// <param name="source">What to name the file by in errors (e.g. its object URI).</param>
    public static CalibratedImage Load(string path, string source, PipelineSettings settings, double? targetZeroPointMag = null)
    {
        FitsImage image;
        TanSipWcs wcs;
        try
        {
            image = FitsFile.ReadImage(path);
            wcs = TanSipWcs.FromHeader(image.Header, source);
        }
        catch (Exception e) when (e is FitsFormatException or WcsException or IOException)
        {
            throw new InvalidImageException($"{source}: {e.Message}", e);
        }
        var header = image.Header;
        var expTime = header.GetDouble("EXPTIME");
        if (expTime is null or <= 0 || !double.IsFinite(expTime.Value))
            throw new InvalidImageException($"{source}: EXPTIME is {(expTime is null ? "missing" : $"{expTime} (must be > 0)")}");
        var t = expTime.Value;
        KeywordValue gainValue, readNoiseValue, saturationValue, mjd;
        try
        {
            gainValue = DetectorKeywords.Number(header, DetectorKeywords.Gain, settings.DefaultGain, source, 0, minExclusive: true);
            readNoiseValue = DetectorKeywords.Number(header, DetectorKeywords.ReadNoise, settings.DefaultReadNoise, source, 0);
            saturationValue = DetectorKeywords.Number(header, DetectorKeywords.Saturation, settings.DefaultSaturation, source, 0, minExclusive: true);
            mjd = DetectorKeywords.ObservationMjd(header, source);
        }
        catch (HeaderKeywordException e)
        {
            throw new InvalidImageException(e.Message, e);
        }
        var (gain, readNoise, saturation) = (gainValue.Value, readNoiseValue.Value, saturationValue.Value);
        var zpt = header.GetDouble(ProductKeywords.ZeroPoint);
        var scale = 1.0 / t;
        double? zeroPoint = zpt;
        if (targetZeroPointMag is not null && zpt is not null)
        {
            scale *= Math.Pow(10, 0.4 * (targetZeroPointMag.Value - zpt.Value));
            zeroPoint = targetZeroPointMag;
        }
        var n = image.Pixels.Length;
        // The DN array becomes the rate array (each pixel is read before it is overwritten): one 64 MB array fewer per 4088 x 4088 input.
        var rate = image.Pixels;
        var variance = new float[n];
        long saturated = 0, finite = 0;
        // Written by the parallel blocks below; dropped when nothing saturated.
        var saturatedMask = new bool[n];
        var rn2 = readNoise * readNoise;
        var scale2 = scale * scale;
        var pixels = image.Pixels;
        // Blocks of rows in parallel: a 4088 x 4088 image is 16.7 million pixels, each a few double operations.
        const int block = 1 << 16;
        Parallel.For(0, (n + block - 1) / block, () => (Saturated: 0L, Finite: 0L), (b, _, counts) =>
        {
            var end = Math.Min(n, (b + 1) * block);
            for (var i = b * block; i < end; i++)
            {
                var dn = pixels[i];
                if (!float.IsFinite(dn)) { rate[i] = variance[i] = float.NaN; continue; }
                if (dn >= saturation) { rate[i] = variance[i] = float.NaN; saturatedMask[i] = true; counts.Saturated++; continue; }
                rate[i] = (float)(dn * scale);
                variance[i] = (float)((Math.Abs(dn) / gain + rn2) * scale2);
                counts.Finite++;
            }
            return counts;
        }, counts =>
        {
            Interlocked.Add(ref saturated, counts.Saturated);
            Interlocked.Add(ref finite, counts.Finite);
        });
        if (finite == 0) throw new InvalidImageException($"{source}: no valid pixels (all NaN or saturated)");
        header.Set("BUNIT", ProductUnits.Rate, "count rate (DN/s)");
        // Products and registration read the observation time as MJD-OBS whatever the input called it.
        if (mjd.Keyword != "MJD-OBS") header.Set("MJD-OBS", mjd.Value, $"observation time (MJD) from {mjd.Keyword}");
        if (zeroPoint is not null) header.Set(ProductKeywords.ZeroPoint, zeroPoint.Value, ProductKeywords.ZeroPointComment);
        return new CalibratedImage
        {
            Source = source,
            Width = image.Width,
            Height = image.Height,
            Rate = rate,
            Variance = variance,
            Wcs = wcs,
            Header = header,
            ExpTime = t,
            MjdObs = mjd.Value,
            ZeroPointMag = zeroPoint,
            SaturatedPixels = saturated,
            Saturated = saturated > 0 ? saturatedMask : null,
        };
    }
}
