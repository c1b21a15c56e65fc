namespace Rapid.Pipeline.Imaging;

/// <summary>Flux and 1-sigma error in the image's units (e.g. DN/s); Flags: see <see cref="PhotometryFlags"/>.</summary>
public readonly record struct ApertureFlux(double Flux, double FluxError, int Flags);

[Flags]
public enum PhotometryFlags
{
    None = 0,
    /// <summary>Part of the aperture falls outside the image.</summary>
    Truncated = 1,
    /// <summary>Some aperture pixels are NaN (masked, saturated or uncovered).</summary>
    MaskedPixels = 2,
}

/// <summary>
/// Circular-aperture photometry on a background-subtracted image (as photutils' CircularAperture with
/// the "center" method): the sum of pixels whose centres lie within the radius, and the square root of
/// the summed variance. Masked (NaN) pixels are skipped and flagged; the flux is scaled up by the
/// fraction of the aperture lost so a few masked pixels do not bias it low.
/// </summary>
public static class AperturePhotometry
{
    /// <param name="x">0-based array x of the centre.</param>
    /// <param name="y">0-based array y of the centre.</param>
    public static ApertureFlux Measure(float[] image, float[] variance, int width, int height, double x, double y, double radius)
    {
        double sum = 0, var = 0;
        int used = 0, total = 0;
        var flags = PhotometryFlags.None;
        var r2 = radius * radius;
        for (var yy = (int)Math.Floor(y - radius); yy <= (int)Math.Ceiling(y + radius); yy++)
            for (var xx = (int)Math.Floor(x - radius); xx <= (int)Math.Ceiling(x + radius); xx++)
            {
                if ((xx - x) * (xx - x) + (yy - y) * (yy - y) > r2) continue;
                total++;
                if (xx < 0 || yy < 0 || xx >= width || yy >= height) { flags |= PhotometryFlags.Truncated; continue; }
                var i = yy * width + xx;
                if (!float.IsFinite(image[i]) || !float.IsFinite(variance[i])) { flags |= PhotometryFlags.MaskedPixels; continue; }
                sum += image[i];
                var += variance[i];
                used++;
            }
        if (used == 0) return new ApertureFlux(double.NaN, double.NaN, (int)flags);
        var scale = (double)total / used;
        return new ApertureFlux(sum * scale, Math.Sqrt(var) * scale, (int)flags);
    }
}
