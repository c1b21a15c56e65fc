using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Tests.Psf;

public class EffectivePsfTests
{
    [Theory]
    [InlineData(1.2, 0.0, 0.0)]
    [InlineData(1.2, 0.5, -0.5)]
    [InlineData(1.2, 0.3, 0.17)]
    [InlineData(2.5, -0.41, 0.22)]
    public void A_gaussian_epsf_puts_the_integral_over_each_pixel_into_it_at_any_phase(double fwhm, double dx, double dy)
    {
        var psf = EffectivePsf.Gaussian(fwhm, 12, 4, PsfMethod.Given);
        var (x, y) = (100 + dx, 50 + dy);

        var stamp = psf.Render(x, y, 15);

        var sigma = fwhm * PsfShape.SigmaPerFwhm;
        double Integral(double d) => 0.5 * (EffectivePsf.Erf((d + 0.5) / (Math.Sqrt(2) * sigma)) - EffectivePsf.Erf((d - 0.5) / (Math.Sqrt(2) * sigma)));
        var peak = Integral(0) * Integral(0);
        for (var j = 0; j < 15; j++)
            for (var i = 0; i < 15; i++)
            {
                var expected = Integral(100 - 7 + i - x) * Integral(50 - 7 + j - y);
                Assert.True(Math.Abs(stamp[j * 15 + i] - expected) < 2e-3 * peak, $"pixel ({i}, {j}): {stamp[j * 15 + i]:G5} against {expected:G5}");
            }
        // Anderson & King's property of an ePSF: the pixels hold the whole flux whatever the phase.
        Assert.Equal(1.0, stamp.Sum(), 3);
    }

    [Fact]
    public void Model_at_is_the_phase_zero_stamp_normalised_to_unit_sum()
    {
        var psf = EffectivePsf.Gaussian(1.4, 8, 4, PsfMethod.Given);

        var model = psf.ModelAt(300.4, 20.6, 11);

        Assert.Equal(11, model.Size);
        Assert.Equal(1.0, model.Stamp.ToArray().Sum(), 12);
        var rendered = psf.Render(300, 21, 11);
        for (var i = 0; i < rendered.Length; i++) Assert.Equal(rendered[i] / rendered.Sum(), model.Stamp[i], 9);
        Assert.Equal(psf.FwhmPixels, model.FwhmPixels, 9);
    }

    [Fact]
    public void A_varying_epsf_is_its_polynomial_of_terms_at_each_position()
    {
        var narrow = EffectivePsf.Gaussian(2.0, 8, 2, PsfMethod.Given).Samples;
        var wide = EffectivePsf.Gaussian(2.6, 8, 2, PsfMethod.Given).Samples;
        var size = (int)Math.Sqrt(narrow.Length);
        // Degree 1: ψ = ψ0 + X ψx + Y ψy with ψx = wide − narrow, ψy = 0; X = (x − 500) / 500.
        var terms = new List<double[]> { narrow, wide.Zip(narrow, (w, n) => w - n).ToArray(), new double[narrow.Length] };
        var psf = new EffectivePsf(terms, size, 2, 1, (500, 500, 500), PsfMethod.Empirical, 10);

        Assert.Equal(2.0 * Math.Sqrt(1 + 1.0 / (12 * 0.25 * 4)), psf.FwhmPixels, 1);
        Assert.Equal(EffectivePsf.Gaussian(2.6, 8, 2, PsfMethod.Given).FwhmPixels, psf.At(1000, 123).FwhmPixels, 6);
        Assert.Equal(EffectivePsf.Gaussian(2.0, 8, 2, PsfMethod.Given).FwhmPixels, psf.At(500, 900).FwhmPixels, 6);
        var direct = psf.Render(1000.3, 123.8, 9);
        var viaAt = psf.At(1000.3, 123.8).Render(1000.3, 123.8, 9);
        for (var i = 0; i < direct.Length; i++) Assert.Equal(viaAt[i], direct[i], 12);
    }

    [Fact]
    public void Rejects_inconsistent_grids()
    {
        var ok = new double[25];
        ok[12] = 1;
        Assert.Throws<ArgumentException>(() => new EffectivePsf([new double[24]], 5, 1, 0, (0, 0, 1), PsfMethod.Given, 0));
        Assert.Throws<ArgumentException>(() => new EffectivePsf([ok], 5, 1, 1, (0, 0, 1), PsfMethod.Given, 0));
        Assert.Throws<ArgumentException>(() => new EffectivePsf([new double[25]], 5, 1, 0, (0, 0, 1), PsfMethod.Given, 0));
        Assert.Throws<ArgumentException>(() => new EffectivePsf([ok], 5, 0, 0, (0, 0, 1), PsfMethod.Given, 0));
        Assert.Throws<ArgumentException>(() => EffectivePsf.Gaussian(1, 5, 1, PsfMethod.Given).Render(0, 0, 4));
    }
}
