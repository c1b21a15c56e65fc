using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Psf.Support;

namespace Rapid.Pipeline.Tests.Subtraction;

/// <summary>
/// The score evaluated by local sums over the kernel box (<see cref="LocalScore"/>) against the full transform
/// (<see cref="ZogySubtraction"/>), with every term of the noise model switched on: what lets the catalog evaluate S at
/// sub-pixel offsets and the injection-recovery measure sources that are never in the products.
/// </summary>
public class LocalScoreTests
{
    private const int Size = 160;
    private const double SigmaN = 3, SigmaR = 1.5;
    private static readonly Profile NewProfile = new(2.6, 2.5);
    private static readonly Profile ReferenceProfile = new(2.0, 2.5);

    private static readonly ZogyRegistration Registration = new()
    {
        AstrometricRmsX = 0.05, AstrometricRmsY = 0.04, ReferenceShiftX = 0.06, ReferenceShiftY = -0.04, FluxRatioError = 0.02,
    };

    /// <summary>Stars, a saturated (NaN) core in N, a masked reference column, source-noise variance maps, correlated reference noise.</summary>
    private static (ZogyImage N, ZogyImage R) Inputs(float[]? extraLight = null, float[]? extraVariance = null)
    {
        var random = new Random(17);
        var stars = StarField.Grid(Size, Size, 26, 12, 400, 60000, new Random(3));
        var n = StarField.Render(Size, Size, NewProfile, stars, SigmaN, random);
        var r = StarField.Render(Size, Size, ReferenceProfile, stars.Select(s => (s.X - 0.06, s.Y + 0.04, s.Flux)), SigmaR, random);
        var vn = n.Select(v => (float)(SigmaN * SigmaN + Math.Max(0, v))).ToArray();
        var vr = r.Select(v => (float)(SigmaR * SigmaR + 0.25 * Math.Max(0, v))).ToArray();
        if (extraLight is not null) for (var i = 0; i < n.Length; i++) n[i] += extraLight[i];
        if (extraVariance is not null) for (var i = 0; i < n.Length; i++) vn[i] += extraVariance[i];
        var brightest = stars.OrderByDescending(s => s.Flux).First();
        for (var dy = -1; dy <= 1; dy++)
            for (var dx = -1; dx <= 1; dx++) n[((int)Math.Round(brightest.Y) + dy) * Size + (int)Math.Round(brightest.X) + dx] = float.NaN;
        for (var y = 0; y < Size; y++) r[y * Size + 120] = float.NaN;
        double[] rho = [.. Enumerable.Range(0, 81).Select(k => k == 40 ? 1.0 : (k is 39 or 41 or 31 or 49) ? 0.2 : 0.0)];
        return (new ZogyImage(n, Size, Size, NewProfile.Model(), SigmaN) { Variance = vn, ModelErrorFraction = 0.04, WidthErrorPixels2 = 0.03 },
                new ZogyImage(r, Size, Size, ReferenceProfile.Model(), SigmaR) { Variance = vr, ModelErrorFraction = 0.03, WidthErrorPixels2 = 0.02, NoiseAutocorrelation = rho });
    }

    private static IEnumerable<(int X, int Y)> Probes()
    {
        var random = new Random(5);
        (int, int)[] edges = [(0, 0), (Size - 1, Size - 1), (0, 77), (77, 0), (Size - 1, 3), (119, 50), (121, 50), (118, 90)];
        return edges.Concat(Enumerable.Range(0, 150).Select(_ => (random.Next(Size), random.Next(Size))));
    }

    /// <summary>
    /// Agreement within a tenth of a sigma and 2e-3 relative: the kernels are made on a small grid (four stamps wide)
    /// and cut to the box that holds all but 1e-8 of their squared sum, and near stars of 10^4 sigma what that leaves
    /// is a few hundredths of a sigma; the full transforms are float32, and their even grid keeps only the real part of
    /// the reference shift's Nyquist terms where the kernels' odd grid shifts them exactly.
    /// </summary>
    private static bool Close(double local, double transform, double sigma) => Math.Abs(local - transform) <= 0.1 * sigma + 2e-3 * Math.Abs(transform);

    [Fact]
    public void Local_sums_give_the_full_transforms_score_and_s_corr_with_every_term()
    {
        var (n, r) = Inputs();
        var zogy = ZogySubtraction.Subtract(n, r, Registration);
        Assert.True(zogy.Local.Noise.ReferenceVarianceFactor > 1.2, $"eta_r {zogy.Local.Noise.ReferenceVarianceFactor}");

        foreach (var (x, y) in Probes())
        {
            var i = y * Size + x;
            var (score, corrected) = zogy.Local.PixelScore(x, y);
            if (float.IsNaN(zogy.ScoreCorrected[i])) { Assert.True(double.IsNaN(corrected), $"({x}, {y}) masked"); continue; }
            Assert.True(Close(corrected, zogy.ScoreCorrected[i], 1), $"S_corr at ({x}, {y}): local {corrected:G6}, transform {zogy.ScoreCorrected[i]:G6}");
            Assert.True(Close(score, zogy.Score[i], Math.Sqrt(zogy.Local.Evaluate(x, y, zogy.Local.Centre).NoiseVariance)),
                $"S at ({x}, {y}): local {score:G6}, transform {zogy.Score[i]:G6}");
        }
    }

    [Fact]
    public void A_whole_pixel_offset_samples_the_neighbouring_pixel()
    {
        var (n, r) = Inputs();
        var zogy = ZogySubtraction.Subtract(n, r, Registration);
        var noise = zogy.Local.Noise;
        var right = zogy.Kernels.At(1, 0, noise.ReferenceShiftX, noise.ReferenceShiftY, zogy.Kernels.Reach);
        var up = zogy.Kernels.At(0, -1, noise.ReferenceShiftX, noise.ReferenceShiftY, zogy.Kernels.Reach);
        foreach (var (x, y) in new[] { (40, 40), (70, 33), (101, 140) })
        {
            var sigma = Math.Sqrt(zogy.Local.Evaluate(x, y, zogy.Local.Centre).NoiseVariance);
            Assert.True(Close(zogy.Local.Evaluate(x, y, right).Score, zogy.Score[y * Size + x + 1], sigma));
            Assert.True(Close(zogy.Local.Evaluate(x, y, up).Score, zogy.Score[(y - 1) * Size + x], sigma));
        }
    }

    [Fact]
    public void A_window_with_added_light_scores_as_an_image_that_holds_it()
    {
        // A source (with its Poisson variance) added to N before the transform, and the same light added to a window.
        var (x0, y0, flux) = (64.3, 51.8, 4000.0);
        var light = new float[Size * Size];
        StarField.AddStar(light, Size, Size, NewProfile, x0, y0, flux);
        var lightVariance = light.Select(v => Math.Max(0, v) * 0.5f).ToArray();
        var (n, r) = Inputs(light, lightVariance);
        var held = ZogySubtraction.Subtract(n, r, Registration);

        var (plainN, plainR) = Inputs();
        var plain = ZogySubtraction.Subtract(plainN, plainR, Registration);
        var (ix, iy) = ((int)Math.Round(x0), (int)Math.Round(y0));
        const int half = Profile.Radius;
        var side = 2 * half + 1;
        var stamp = new double[side * side];
        var stampVariance = new double[side * side];
        for (var b = 0; b < side; b++)
            for (var a = 0; a < side; a++)
            {
                var (x, y) = (ix - half + a, iy - half + b);
                if (x < 0 || y < 0 || x >= Size || y >= Size) continue;
                (stamp[b * side + a], stampVariance[b * side + a]) = (light[y * Size + x], lightVariance[y * Size + x]);
            }
        var window = plain.Local.Window(ix, iy, 8, [new AddedLight(ix, iy, side, stamp, stampVariance)]);
        var (score, corrected) = window.PixelMaps(ix - 8, iy - 8, ix + 9, iy + 9);

        for (var j = 0; j < 17; j++)
            for (var i = 0; i < 17; i++)
            {
                var p = (iy - 8 + j) * Size + ix - 8 + i;
                Assert.True(Close(corrected[j * 17 + i], held.ScoreCorrected[p], 1),
                    $"S_corr at ({ix - 8 + i}, {iy - 8 + j}): window {corrected[j * 17 + i]:G6}, image holding the light {held.ScoreCorrected[p]:G6}");
                Assert.True(Close(score[j * 17 + i], held.Score[p], Math.Abs(held.Score[p] / held.ScoreCorrected[p])));
            }
        Assert.True(held.ScoreCorrected[iy * Size + ix] > 20, "the light is a bright source");
    }
}
