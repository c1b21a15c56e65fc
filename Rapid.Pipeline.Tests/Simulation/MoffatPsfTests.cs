using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Simulation;

public class MoffatPsfTests
{
    [Fact]
    public void Density_integrates_to_one_over_the_plane()
    {
        var psf = MoffatPsf.For(RomanFilter.Named("F184"), 0.11);
        // Numerical integral inside r = 40 px on a fine grid, plus the analytic tail outside it.
        const double step = 0.05, radius = 40;
        double sum = 0;
        for (var y = -radius; y <= radius; y += step)
            for (var x = -radius; x <= radius; x += step)
                if (x * x + y * y <= radius * radius) sum += psf.Density(x * x + y * y) * step * step;
        Assert.Equal(1.0, sum + psf.FractionOutside(radius), 3);
    }

    [Fact]
    public void Fwhm_is_where_the_density_halves()
    {
        var psf = new MoffatPsf(1.5);
        var r = psf.FwhmPixels / 2;
        Assert.Equal(0.5, psf.Density(r * r) / psf.Density(0), 9);
    }

    [Fact]
    public void Width_grows_with_wavelength_as_diffraction()
    {
        var widths = RomanFilter.All.OrderBy(f => f.EffectiveWavelengthMicron).Select(MoffatPsf.FwhmArcsec).ToList();
        Assert.Equal(widths.OrderBy(w => w), widths);
        Assert.InRange(MoffatPsf.FwhmArcsec(RomanFilter.Named("F184")), 0.16, 0.18);
        Assert.InRange(MoffatPsf.FwhmArcsec(RomanFilter.Named("H158")), 0.14, 0.155);
    }

    [Fact]
    public void Stamp_sums_to_one_for_any_subpixel_offset()
    {
        var psf = MoffatPsf.For(RomanFilter.Named("H158"), 0.11);
        const int h = 10;
        var stamp = new double[21 * 21];
        foreach (var (dx, dy) in new[] { (0.0, 0.0), (0.37, -0.21), (-0.5, 0.5) })
        {
            psf.FillStamp(stamp, h, dx, dy);
            Assert.Equal(1.0, stamp.Sum(), 12);
        }
    }

    [Fact]
    public void Psf_broadens_towards_the_sca_corner_when_variation_is_set()
    {
        var f = RomanFilter.Named("F184");
        Assert.Equal(MoffatPsf.For(f, 0.11).FwhmPixels * 1.05, MoffatPsf.For(f, 0.11, 1, 0.05).FwhmPixels, 9);
    }
}
