using Rapid.Pipeline.Fft;
using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Psf.Support;

namespace Rapid.Pipeline.Tests.Subtraction;

public class ZogySubtractionTests
{
    private const int Size = 128;
    private static readonly Profile NewProfile = new(3.4);
    private static readonly Profile ReferenceProfile = new(2.4);
    private const double SigmaN = 3, SigmaR = 1.5;

    [Fact]
    public void Delta_psfs_give_the_plain_difference_over_the_combined_noise()
    {
        var random = new Random(1);
        var n = StarField.Render(Size, Size, NewProfile, [], SigmaN, random);
        var r = StarField.Render(Size, Size, NewProfile, [], SigmaR, random);
        var delta = new PsfModel([0, 0, 0, 0, 1, 0, 0, 0, 0], 3, 1, PsfMethod.Given, 0);

        var result = ZogySubtraction.Subtract(new ZogyImage(n, Size, Size, delta, SigmaN), new ZogyImage(r, Size, Size, delta, SigmaR));

        var norm = Math.Sqrt(SigmaN * SigmaN + SigmaR * SigmaR);
        for (var i = 0; i < n.Length; i++) Assert.True(Math.Abs((n[i] - r[i]) / norm - result.Difference[i]) < 1e-5, $"pixel {i}");
        Assert.Equal(1, result.DifferencePsf[1, 1], 9);
        Assert.Equal(1 / norm, result.FluxScale, 12);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_constant_star_field_gives_unit_normal_score_corrected(int seed)
    {
        // 256 x 256: S_corr is correlated over the kernel, so the mean of a 128 x 128 image scatters by about 0.04.
        var (n, r) = Pair(new Random(seed), transient: null, size: 256);

        var result = ZogySubtraction.Subtract(new ZogyImage(n, 256, 256, NewProfile.Model(), SigmaN), new ZogyImage(r, 256, 256, ReferenceProfile.Model(), SigmaR));

        var (mean, rms) = Statistics(result.ScoreCorrected);
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(rms, 0.9, 1.1);
        Assert.InRange(Statistics(result.Difference).Rms, 0.9, 1.1);
    }

    [Fact]
    public void A_transient_only_in_the_new_image_peaks_at_its_position_with_the_expected_signal_to_noise()
    {
        const double flux = 1500;
        var (n, r) = Pair(new Random(3), transient: (70, 50, flux));

        var result = Subtract(n, r, NewProfile.Model(), ReferenceProfile.Model());

        var peak = ArgMax(result.ScoreCorrected);
        Assert.Equal((70, 50), (peak % Size, peak / Size));
        var expected = flux * OptimalSignalToNoisePerFlux(NewProfile.Model(), ReferenceProfile.Model());
        Assert.InRange(result.ScoreCorrected[peak], expected - 3, expected + 3);
        Assert.True(expected > 15, $"expected S/N {expected}");
    }

    [Fact]
    public void Na_n_pixels_come_back_as_na_n_and_the_rest_stays_finite()
    {
        var (n, r) = Pair(new Random(4), transient: null);
        n[40 * Size + 33] = float.NaN;
        r[90 * Size + 100] = float.NaN;

        var result = Subtract(n, r, NewProfile.Model(), ReferenceProfile.Model());

        foreach (var image in new[] { result.Difference, result.Score, result.ScoreCorrected })
        {
            Assert.True(float.IsNaN(image[40 * Size + 33]));
            Assert.True(float.IsNaN(image[90 * Size + 100]));
            Assert.Equal(2, image.Count(float.IsNaN));
        }
    }

    [Fact]
    public void An_off_centre_psf_stamp_does_not_shift_the_transient()
    {
        var (n, r) = Pair(new Random(5), transient: (61, 66, 2000));
        // The new image's PSF given as an even stamp with its centre off the middle (as a PSF file might be).
        var stamp = new float[24 * 24];
        for (var y = 0; y < 24; y++) for (var x = 0; x < 24; x++) stamp[y * 24 + x] = (float)NewProfile.At(x - 10.6, y - 12.3);

        var result = Subtract(n, r, PsfModel.FromStamp(stamp, 24, 24, 31), ReferenceProfile.Model());

        var peak = ArgMax(result.ScoreCorrected);
        Assert.Equal((61, 66), (peak % Size, peak / Size));
        var expected = 2000 * OptimalSignalToNoisePerFlux(NewProfile.Model(), ReferenceProfile.Model());
        Assert.InRange(result.ScoreCorrected[peak], expected - 3, expected + 3);
        // Everywhere the recentred PSF gives what the true PSF gives.
        var truth = Subtract(n, r, NewProfile.Model(), ReferenceProfile.Model());
        for (var i = 0; i < truth.ScoreCorrected.Length; i++) Assert.True(Math.Abs(truth.ScoreCorrected[i] - result.ScoreCorrected[i]) < 0.05, $"pixel {i}");
    }

    [Fact]
    public void Astrometric_noise_lowers_the_score_on_stars_only()
    {
        var (n, r) = Pair(new Random(6), transient: null);
        // Shift the reference stars by 0.15 px: residual dipoles that the astrometric term must absorb.
        var shifted = StarField.Render(Size, Size, ReferenceProfile, Stars(new Random(99)).Select(s => (s.X + 0.15, s.Y, s.Flux)), SigmaR, new Random(7));

        var without = Subtract(n, shifted, NewProfile.Model(), ReferenceProfile.Model());
        var with = ZogySubtraction.Subtract(
            new ZogyImage(n, Size, Size, NewProfile.Model(), SigmaN), new ZogyImage(shifted, Size, Size, ReferenceProfile.Model(), SigmaR), 0.15, 0.15);

        var worstWithout = without.ScoreCorrected.Max(v => Math.Abs(v));
        var worstWith = with.ScoreCorrected.Max(v => Math.Abs(v));
        Assert.True(worstWithout > 6, $"unmodelled shift peaks at {worstWithout}");
        Assert.True(worstWith < 5.5, $"with the astrometric term the peak is {worstWith}");
    }

    [Fact]
    public void Source_noise_variance_images_keep_score_corrected_normal_on_bright_stars()
    {
        // Bright stars with photon noise (variance = sigma^2 + signal, gain 1) in both images.
        var stars = StarField.Grid(256, 256, 24, 10, 20000, 200000, new Random(31));
        var random = new Random(32);
        float[] Noisy(Profile profile, double sigma, out float[] variance)
        {
            var clean = StarField.Render(256, 256, profile, stars, 0, random);
            variance = clean.Select(v => (float)(sigma * sigma + v)).ToArray();
            var image = new float[clean.Length];
            for (var i = 0; i < image.Length; i++) image[i] = (float)(clean[i] + Math.Sqrt(variance[i]) * StarField.Gaussian(random));
            return image;
        }
        var n = Noisy(NewProfile, SigmaN, out var vn);
        var r = Noisy(ReferenceProfile, SigmaR, out var vr);
        ZogyResult Run(bool withVariance) => ZogySubtraction.Subtract(
            new ZogyImage(n, 256, 256, NewProfile.Model(), SigmaN) { Variance = withVariance ? vn : null },
            new ZogyImage(r, 256, 256, ReferenceProfile.Model(), SigmaR) { Variance = withVariance ? vr : null });

        var onStars = Enumerable.Range(0, 256 * 256).Where(i => vn[i] > 4 * SigmaN * SigmaN).ToArray();
        double Rms(ZogyResult result) => Math.Sqrt(onStars.Average(i => (double)result.ScoreCorrected[i] * result.ScoreCorrected[i]));

        Assert.True(onStars.Length > 500, $"{onStars.Length} pixels on stars");
        Assert.True(Rms(Run(false)) > 1.5, $"without source noise the rms on stars is {Rms(Run(false))}");
        Assert.InRange(Rms(Run(true)), 0.85, 1.15);
        Assert.InRange(Statistics(Run(true).ScoreCorrected).Rms, 0.9, 1.1);
    }

    [Fact]
    public void A_reference_on_another_zero_point_gives_the_same_score_when_its_flux_scale_is_given()
    {
        var (n, r) = Pair(new Random(9), transient: (70, 50, 1500));
        var scaled = r.Select(v => 2.5f * v).ToArray();

        var plain = Subtract(n, r, NewProfile.Model(), ReferenceProfile.Model());
        var rescaled = ZogySubtraction.Subtract(
            new ZogyImage(n, Size, Size, NewProfile.Model(), SigmaN),
            new ZogyImage(scaled, Size, Size, ReferenceProfile.Model(), 2.5 * SigmaR) { FluxScale = 2.5 });

        for (var i = 0; i < plain.ScoreCorrected.Length; i++) Assert.True(Math.Abs(plain.ScoreCorrected[i] - rescaled.ScoreCorrected[i]) < 1e-3, $"pixel {i}");
        Assert.Equal(plain.FluxScale, rescaled.FluxScale, 9);
    }

    [Fact]
    public void Odd_sizes_are_padded_and_cut_back()
    {
        var random = new Random(8);
        var (w, h) = (101, 77);
        var n = StarField.Render(w, h, NewProfile, [(50, 40, 5000)], SigmaN, random);
        var r = StarField.Render(w, h, ReferenceProfile, [(50, 40, 5000)], SigmaR, random);

        var result = ZogySubtraction.Subtract(new ZogyImage(n, w, h, NewProfile.Model(), SigmaN), new ZogyImage(r, w, h, ReferenceProfile.Model(), SigmaR));

        Assert.Equal(w * h, result.ScoreCorrected.Length);
        Assert.InRange(Statistics(result.ScoreCorrected).Rms, 0.85, 1.15);
    }

    [Fact]
    public void Rejects_images_of_different_sizes()
    {
        var psf = PsfModel.Gaussian(2, 9);
        var error = Assert.Throws<ArgumentException>(() => ZogySubtraction.Subtract(new ZogyImage(new float[64 * 64], 64, 64, psf, 1), new ZogyImage(new float[64 * 32], 64, 32, psf, 1)));
        Assert.Contains("resample", error.Message);
    }

    internal static ZogyResult Subtract(float[] n, float[] r, PsfModel pn, PsfModel pr) =>
        ZogySubtraction.Subtract(new ZogyImage(n, Size, Size, pn, SigmaN), new ZogyImage(r, Size, Size, pr, SigmaR));

    /// <summary>The same stars (bright and faint) in N and R with different PSFs and noise; a transient in N only.</summary>
    internal static (float[] N, float[] R) Pair(Random random, (double X, double Y, double Flux)? transient, int size = Size)
    {
        var stars = Stars(new Random(99), size);
        var n = StarField.Render(size, size, NewProfile, stars, SigmaN, random);
        var r = StarField.Render(size, size, ReferenceProfile, stars, SigmaR, random);
        if (transient is { } t) StarField.AddStar(n, size, size, NewProfile, t.X, t.Y, t.Flux);
        return (n, r);
    }

    /// <summary>Stars from 500 to 20000 (peaks up to about 400 sigma_n) on a 24-pixel grid, none near (70, 50).</summary>
    private static List<(double X, double Y, double Flux)> Stars(Random random, int size = Size) =>
        StarField.Grid(size, size, 24, 10, 500, 20000, random).Where(s => Math.Abs(s.X - 70) > 8 || Math.Abs(s.Y - 50) > 8).ToList();

    /// <summary>S/N per unit flux of the optimal statistic (eq. 17 with the flux scales 1), by Parseval on the PSFs.</summary>
    internal static double OptimalSignalToNoisePerFlux(PsfModel pn, PsfModel pr)
    {
        using var fft = new Fft2DDouble(Size, Size);
        var a = new double[fft.SpectrumLength];
        var b = new double[fft.SpectrumLength];
        fft.Forward(pn.EmbedCentred(Size, Size), a);
        fft.Forward(pr.EmbedCentred(Size, Size), b);
        double sum = 0;
        for (var ky = 0; ky < Size; ky++)
        {
            for (var kx = 0; kx <= Size / 2; kx++)
            {
                var k = 2 * (ky * fft.SpectrumWidth + kx);
                var pn2 = a[k] * a[k] + a[k + 1] * a[k + 1];
                var pr2 = b[k] * b[k] + b[k + 1] * b[k + 1];
                var weight = kx == 0 || kx == Size / 2 ? 1 : 2;
                sum += weight * pn2 * pr2 / (SigmaN * SigmaN * pr2 + SigmaR * SigmaR * pn2);
            }
        }
        return Math.Sqrt(sum / (Size * Size));
    }

    internal static (double Mean, double Rms) Statistics(float[] image)
    {
        var values = image.Where(float.IsFinite).Select(v => (double)v).ToArray();
        var mean = values.Average();
        return (mean, Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length));
    }

    private static int ArgMax(float[] image)
    {
        var best = 0;
        for (var i = 1; i < image.Length; i++) if (image[i] > image[best]) best = i;
        return best;
    }
}
