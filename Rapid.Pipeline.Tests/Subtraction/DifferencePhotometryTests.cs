using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Psf.Support;

namespace Rapid.Pipeline.Tests.Subtraction;

public class DifferencePhotometryTests
{
    private static readonly Profile NewProfile = new(3.4);
    private static readonly Profile ReferenceProfile = new(2.4);

    [Theory]
    [InlineData(2500)]
    [InlineData(-2500)]
    public void MeasuresTheFluxOfATransientOfEitherSignWithin3Percent(double flux)
    {
        var (x, y) = (70.3, 49.6);
        var (n, r) = ZogySubtractionTests.Pair(new Random(21), transient: null);
        if (flux > 0) StarField.AddStar(n, 128, 128, NewProfile, x, y, flux);
        else StarField.AddStar(r, 128, 128, ReferenceProfile, x, y, -flux);

        var zogy = ZogySubtractionTests.Subtract(n, r, NewProfile.Model(), ReferenceProfile.Model());
        var measured = DifferencePhotometry.Measure(zogy, x, y);

        Assert.True(Math.Abs(measured.SignalToNoise) >= 20, $"S/N {measured.SignalToNoise}");
        Assert.InRange(measured.Flux / flux, 0.97, 1.03);
        Assert.Equal(Math.Sign(flux), Math.Sign(measured.Flux));
    }

    [Fact]
    public void ErrorsMatchTheScatterOverNoiseRealisations()
    {
        const double flux = 600;
        var (x, y) = (70.0, 50.4);
        var pulls = new List<double>();
        for (var trial = 0; trial < 40; trial++)
        {
            var (n, r) = ZogySubtractionTests.Pair(new Random(1000 + trial), transient: (x, y, flux));
            var measured = DifferencePhotometry.Measure(ZogySubtractionTests.Subtract(n, r, NewProfile.Model(), ReferenceProfile.Model()), x, y);
            pulls.Add((measured.Flux - flux) / measured.FluxError);
        }

        var mean = pulls.Average();
        var rms = Math.Sqrt(pulls.Sum(p => (p - mean) * (p - mean)) / pulls.Count);
        Assert.InRange(rms, 0.8, 1.25);
        Assert.InRange(mean, -0.6, 0.6);
    }

    [Fact]
    public void SkipsNaNPixelsAndGivesNaNWhenNothingIsLeft()
    {
        var zogy = ZogySubtractionTests.Subtract(
            Enumerable.Repeat(float.NaN, 128 * 128).ToArray(), new float[128 * 128], NewProfile.Model(), ReferenceProfile.Model());

        var measured = DifferencePhotometry.Measure(zogy, 64, 64);

        Assert.True(double.IsNaN(measured.Flux));
        Assert.Equal(0, measured.PixelsUsed);
    }
}
