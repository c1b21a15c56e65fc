using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Tests.Psf;

public class CubicBSplineGridTests
{
    [Fact]
    public void Passes_through_every_sample()
    {
        var random = new Random(1);
        const int n = 13;
        var samples = Enumerable.Range(0, n * n).Select(_ => random.NextDouble()).ToArray();

        var spline = new CubicBSplineGrid(samples, n);

        for (var v = 0; v < n; v++)
            for (var u = 0; u < n; u++) Assert.Equal(samples[v * n + u], spline.Value(u, v), 10);
    }

    [Fact]
    public void Interpolates_a_smooth_profile_and_its_gradient()
    {
        const int n = 41;
        const double c = 20, s = 3;
        double F(double u, double v) => Math.Exp(-((u - c) * (u - c) + (v - c) * (v - c)) / (2 * s * s));
        var samples = new double[n * n];
        for (var v = 0; v < n; v++) for (var u = 0; u < n; u++) samples[v * n + u] = F(u, v);

        var spline = new CubicBSplineGrid(samples, n);

        foreach (var (u, v) in new[] { (20.5, 20.5), (18.3, 22.9), (24.75, 15.1) })
        {
            var (value, du, dv) = spline.ValueAndGradient(u, v);
            Assert.True(Math.Abs(F(u, v) - value) < 5e-4, $"{value} against {F(u, v)}");
            const double h = 1e-5;
            Assert.Equal((spline.Value(u + h, v) - spline.Value(u - h, v)) / (2 * h), du, 6);
            Assert.Equal((spline.Value(u, v + h) - spline.Value(u, v - h)) / (2 * h), dv, 6);
            Assert.True(Math.Abs(-(u - c) / (s * s) * F(u, v) - du) < 1e-3, $"d/du {du} against {-(u - c) / (s * s) * F(u, v)}");
        }
        Assert.Equal(0, spline.Value(-0.1, 5));
        Assert.Equal(0, spline.Value(5, n - 0.9));
    }

    [Fact]
    public void A_lattice_is_the_spline_at_each_of_its_points()
    {
        var random = new Random(2);
        const int n = 30;
        var spline = new CubicBSplineGrid(Enumerable.Range(0, n * n).Select(_ => random.NextDouble()).ToArray(), n);
        var lattice = new double[8 * 9];

        spline.Lattice(-2.3, 0.6, 4, 8, 9, lattice);

        for (var j = 0; j < 9; j++)
            for (var i = 0; i < 8; i++) Assert.Equal(spline.Value(-2.3 + 4 * i, 0.6 + 4 * j), lattice[j * 8 + i], 12);
    }
}
