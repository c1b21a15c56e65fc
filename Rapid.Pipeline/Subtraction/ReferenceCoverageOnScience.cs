using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Resampling;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Subtraction;

/// <summary>
/// The reference's coverage on the science grid in frames per pixel, for the low-coverage mask: the nearest reference
/// pixel's count, times the share of the Lanczos taps of the resampled reference image that were valid there. In frames,
/// not as a fraction of the reference's frames, as the original masks coverage below 0.5: a tile co-added from several
/// fields' images covers each science image with only some of its frames, and a fraction would mask well-covered pixels. Nearest-neighbour because the mask only compares it with a threshold, and a second Lanczos
/// resampling of the full-size coverage map costs as much as the image's.
/// </summary>
public static class ReferenceCoverageOnScience
{
    /// <param name="coverage">Frames per reference pixel (row-major, 0-based), NaN or 0 where none.</param>
    /// <param name="tapCoverage">The resampler's coverage of the reference image on the science grid (0..1).</param>
    public static float[] Frames(FitsImage coverage, TanSipWcs referenceWcs, int width, int height, TanSipWcs scienceWcs, float[] tapCoverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        ArgumentNullException.ThrowIfNull(tapCoverage);
        if (tapCoverage.Length != (long)width * height) throw new ArgumentException($"the tap coverage has {tapCoverage.Length} values, not {width} x {height}");
        var map = new PixelMap(width, height, scienceWcs, referenceWcs);
        var result = new float[(long)width * height];
        var (cw, ch) = (coverage.Width, coverage.Height);
        Parallel.For(0, height, () => (new double[width], new double[width]), (y, _, rows) =>
        {
            var (xs, ys) = rows;
            map.MapRow(y, xs, ys);
            for (var x = 0; x < width; x++)
            {
                var i = y * width + x;
                var (sx, sy) = ((int)Math.Round(xs[x]), (int)Math.Round(ys[x]));
                if (!double.IsFinite(xs[x]) || !double.IsFinite(ys[x]) || sx < 0 || sy < 0 || sx >= cw || sy >= ch) continue;
                var c = coverage.Pixels[sy * cw + sx] * tapCoverage[i];
                result[i] = double.IsFinite(c) ? (float)c : 0f;
            }
            return rows;
        }, _ => { });
        return result;
    }
}
