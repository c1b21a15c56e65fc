using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// A saturated star: the centroid of its saturated pixels (0-based), their count, its total flux estimated from its
/// unsaturated pixels just outside them, and the radius (pixels) its mask reaches.
/// </summary>
public sealed record SaturatedStar(double X, double Y, int Pixels, double Flux, double MaskRadius);

/// <summary>
/// Masks around saturated stars grown with the star's brightness. A saturated star's core is missing and its wings are
/// cut where the mask begins; ZOGY zeroes masked pixels in both images, so the wing's level at the mask's edge is left as
/// a step that the two PSF kernels smear differently, a residual that grows with the star's flux. The mask therefore
/// reaches out to where the star's light per pixel, F · ψ(r), has fallen to WingSigma times the background noise:
/// F from the unsaturated pixels just outside the saturated ones (F = I / ψ(r), their median), ψ the science image's
/// effective PSF azimuthally averaged (its wing extrapolated as a power law beyond the ePSF's extent), as DAOPHOT and
/// SExtractor grow their masks by a star's measured profile rather than a fixed margin. Never less than the saturated
/// pixels grown by MinRadius (bleed trails included), never beyond MaxRadius from the centroid.
/// </summary>
public static class SaturatedStars
{
    /// <summary>
    /// The saturated stars of an image: 8-connected groups of saturated pixels. image: background-subtracted, NaN at
    /// the saturated pixels; psf: the science image's ePSF; noiseSigma: its background noise; lengths in pixels.
    /// </summary>
    public static IReadOnlyList<SaturatedStar> Measure(bool[]? saturated, float[] image, int width, int height, EffectivePsf psf,
        double noiseSigma, double wingSigma, double minRadius, double maxRadius)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(psf);
        if (saturated is null) return [];
        if (saturated.Length != (long)width * height || image.Length != saturated.Length) throw new ArgumentException($"the saturation mask and image must hold {width} x {height} pixels");
        var profile = new RadialProfile(psf.At((width - 1) / 2.0, (height - 1) / 2.0), maxRadius);
        var stars = new List<SaturatedStar>();
        var seen = new bool[saturated.Length];
        var stack = new Stack<int>();
        var members = new List<int>();
        for (var start = 0; start < saturated.Length; start++)
        {
            if (!saturated[start] || seen[start]) continue;
            members.Clear();
            seen[start] = true;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                members.Add(p);
                var (px, py) = (p % width, p / width);
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        var (x, y) = (px + dx, py + dy);
                        if (x < 0 || y < 0 || x >= width || y >= height) continue;
                        var q = y * width + x;
                        if (saturated[q] && !seen[q]) { seen[q] = true; stack.Push(q); }
                    }
            }
            stars.Add(Star(members, image, saturated, width, height, profile, noiseSigma, wingSigma, minRadius, maxRadius));
        }
        return stars;
    }

    /// <summary>
    /// True at the saturated pixels grown by <paramref name="minRadius"/> (square) and within each star's mask radius plus
    /// <paramref name="extra"/> of its centroid; null without saturated pixels.
    /// </summary>
    public static bool[]? Mask(IReadOnlyList<SaturatedStar> stars, bool[]? saturated, int width, int height, int minRadius, double extra)
    {
        ArgumentNullException.ThrowIfNull(stars);
        var mask = SaturationMask.Grow(saturated, width, height, minRadius + (int)Math.Ceiling(extra));
        if (mask is null) return null;
        foreach (var star in stars)
        {
            var r = star.MaskRadius + extra;
            var (y0, y1) = (Math.Max(0, (int)Math.Floor(star.Y - r)), Math.Min(height - 1, (int)Math.Ceiling(star.Y + r)));
            var (x0, x1) = (Math.Max(0, (int)Math.Floor(star.X - r)), Math.Min(width - 1, (int)Math.Ceiling(star.X + r)));
            for (var y = y0; y <= y1; y++)
                for (var x = x0; x <= x1; x++)
                    if ((x - star.X) * (x - star.X) + (y - star.Y) * (y - star.Y) <= r * r) mask[y * width + x] = true;
        }
        return mask;
    }

    /// <summary>
    /// The stars with each mask grown to cover the reference's own hole around it (its masked pixels connected to the
    /// star's centroid, within <paramref name="maxRadius"/>) and <paramref name="reach"/> pixels beyond. A star saturated
    /// in the reference frames leaves a masked hole in the resampled reference, and the resampled pixels just outside it
    /// interpolate the star's steep, undersampled wing next to its lost core: Lanczos' lobes print several sigma of
    /// spurious light there (on the independent fitsh and photutils sets, 1-10 DN/s at 4-5 px from stars of 7,000-11,000
    /// DN/s where the science image holds none), which ZOGY leaves as a negative row just outside a mask measured on the
    /// science image alone. <paramref name="reach"/>: the resampling kernel's half-width (Lanczos-3: 3 px).
    /// </summary>
    public static IReadOnlyList<SaturatedStar> CoveringReferenceHoles(IReadOnlyList<SaturatedStar> stars, float[] reference, int width, int height, double reach, double maxRadius)
    {
        ArgumentNullException.ThrowIfNull(stars);
        ArgumentNullException.ThrowIfNull(reference);
        var grown = new List<SaturatedStar>(stars.Count);
        var stack = new Stack<int>();
        var seen = new HashSet<int>();
        foreach (var star in stars)
        {
            var (cx, cy) = ((int)Math.Round(star.X), (int)Math.Round(star.Y));
            if (cx < 0 || cy < 0 || cx >= width || cy >= height || !float.IsNaN(reference[cy * width + cx]))
            {
                grown.Add(star);
                continue;
            }
            double farthest = 0;
            seen.Clear();
            stack.Push(cy * width + cx);
            seen.Add(cy * width + cx);
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                var (px, py) = (p % width, p / width);
                farthest = Math.Max(farthest, Math.Sqrt((px - star.X) * (px - star.X) + (py - star.Y) * (py - star.Y)));
                foreach (var (dx, dy) in (ReadOnlySpan<(int, int)>)[(1, 0), (-1, 0), (0, 1), (0, -1)])
                {
                    var (x, y) = (px + dx, py + dy);
                    if (x < 0 || y < 0 || x >= width || y >= height) continue;
                    var q = y * width + x;
                    if (!float.IsNaN(reference[q]) || (x - star.X) * (x - star.X) + (y - star.Y) * (y - star.Y) > maxRadius * maxRadius || !seen.Add(q)) continue;
                    stack.Push(q);
                }
            }
            grown.Add(star with { MaskRadius = Math.Min(maxRadius, Math.Max(star.MaskRadius, farthest + reach)) });
        }
        return grown;
    }

    private static SaturatedStar Star(List<int> members, float[] image, bool[] saturated, int width, int height, RadialProfile profile,
        double noiseSigma, double wingSigma, double minRadius, double maxRadius)
    {
        double cx = 0, cy = 0;
        foreach (var p in members) (cx, cy) = (cx + p % width, cy + p / width);
        (cx, cy) = (cx / members.Count, cy / members.Count);
        // The radius of a disc of the saturated area: the star's light reaches saturation about there.
        var core = Math.Sqrt(members.Count / Math.PI);
        var estimates = new List<double>();
        var ring = core + 2.5;
        for (var y = Math.Max(0, (int)(cy - ring)); y <= Math.Min(height - 1, (int)Math.Ceiling(cy + ring)); y++)
            for (var x = Math.Max(0, (int)(cx - ring)); x <= Math.Min(width - 1, (int)Math.Ceiling(cx + ring)); x++)
            {
                var r = Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy));
                var v = image[y * width + x];
                if (r < core + 0.5 || r > ring || saturated[y * width + x] || !float.IsFinite(v) || !(v > 0)) continue;
                var psi = profile.At(r);
                if (psi > 0) estimates.Add(v / psi);
            }
        if (estimates.Count == 0) return new SaturatedStar(cx, cy, members.Count, double.NaN, core + minRadius);
        estimates.Sort();
        var flux = estimates[estimates.Count / 2];
        var level = wingSigma * noiseSigma;
        var radius = core + minRadius;
        for (var r = core; r <= maxRadius; r += 0.25)
        {
            radius = r;
            if (flux * profile.At(r) <= level) break;
        }
        return new SaturatedStar(cx, cy, members.Count, flux, Math.Clamp(radius, core + minRadius, maxRadius));
    }

    /// <summary>
    /// The azimuthal average of an ePSF per unit flux at radius r (pixels), tabulated every 0.25 px; beyond the ePSF's
    /// extent the wing continues as the power law r^k fitted between 40 % and 90 % of it (slope −3, an Airy envelope's,
    /// if the fit fails).
    /// </summary>
    private sealed class RadialProfile
    {
        private const double Step = 0.25;
        private readonly double[] _table;

        public RadialProfile(EffectivePsf psf, double maxRadius)
        {
            var extent = psf.RadiusPixels;
            var inside = (int)(extent / Step);
            _table = new double[(int)(Math.Max(maxRadius, extent) / Step) + 2];
            const int directions = 16;
            for (var k = 0; k <= inside && k < _table.Length; k++)
            {
                double sum = 0;
                for (var d = 0; d < directions; d++)
                {
                    var a = 2 * Math.PI * d / directions;
                    sum += psf.Value(k * Step * Math.Cos(a), k * Step * Math.Sin(a));
                }
                _table[k] = sum / directions;
            }
            // log ψ = a + slope log r over the outer wing.
            double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (var k = (int)(0.4 * extent / Step); k <= (int)(0.9 * extent / Step); k++)
            {
                if (k <= 0 || !(_table[k] > 0)) continue;
                var (lx, ly) = (Math.Log(k * Step), Math.Log(_table[k]));
                (n, sx, sy, sxx, sxy) = (n + 1, sx + lx, sy + ly, sxx + lx * lx, sxy + lx * ly);
            }
            var slope = n >= 3 && n * sxx - sx * sx > 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : -3;
            if (!(slope < -1)) slope = -3;
            var anchor = (int)(0.9 * extent / Step);
            var anchorValue = _table[anchor] > 0 ? _table[anchor] : Math.Exp((sy - slope * sx) / Math.Max(n, 1)) * Math.Pow(anchor * Step, slope);
            for (var k = anchor + 1; k < _table.Length; k++) _table[k] = anchorValue * Math.Pow((double)k / anchor, slope);
        }

        public double At(double r)
        {
            var x = Math.Max(0, r) / Step;
            var k = Math.Min((int)x, _table.Length - 2);
            var t = Math.Min(x - k, 1);
            return _table[k] + t * (_table[k + 1] - _table[k]);
        }
    }
}
