using Rapid.Pipeline.Psf;

namespace Rapid.Pipeline.Tests.Psf.Support;

/// <summary>A circularly symmetric test profile: Gaussian (beta null) or Moffat, point-sampled at pixel centres.</summary>
internal sealed record Profile(double Fwhm, double? Beta = null)
{
    public const int Radius = 15;

    public double At(double dx, double dy)
    {
        var r2 = dx * dx + dy * dy;
        if (Beta is not { } beta)
        {
            var s = Fwhm * PsfShape.SigmaPerFwhm;
            return Math.Exp(-r2 / (2 * s * s));
        }
        var alpha = Fwhm / (2 * Math.Sqrt(Math.Pow(2, 1 / beta) - 1));
        return Math.Pow(1 + r2 / (alpha * alpha), -beta);
    }

    /// <summary>The profile as an odd stamp centred on its middle pixel, normalised (the truth for the tests).</summary>
    public PsfModel Model(int size = 2 * Radius + 1)
    {
        var c = size / 2;
        var stamp = new double[size * size];
        for (var y = 0; y < size; y++) for (var x = 0; x < size; x++) stamp[y * size + x] = At(x - c, y - c);
        return new PsfModel(stamp, size, Fwhm, PsfMethod.Given, 0);
    }
}

/// <summary>Simulated images for the PSF and subtraction tests (background 0, Gaussian read/sky noise).</summary>
internal static class StarField
{
    /// <summary>Adds a star of total flux (within the render box) at 0-based (x, y).</summary>
    public static void AddStar(float[] image, int width, int height, Profile profile, double x, double y, double flux)
    {
        var (ix, iy) = ((int)Math.Round(x), (int)Math.Round(y));
        var r = Profile.Radius;
        double sum = 0;
        for (var j = iy - r; j <= iy + r; j++) for (var i = ix - r; i <= ix + r; i++) sum += profile.At(i - x, j - y);
        for (var j = Math.Max(iy - r, 0); j <= Math.Min(iy + r, height - 1); j++)
        {
            for (var i = Math.Max(ix - r, 0); i <= Math.Min(ix + r, width - 1); i++) image[j * width + i] += (float)(flux * profile.At(i - x, j - y) / sum);
        }
    }

    public static void AddNoise(float[] image, double sigma, Random random)
    {
        for (var i = 0; i < image.Length; i++) image[i] += (float)(sigma * Gaussian(random));
    }

    public static double Gaussian(Random random)
    {
        var u = 1 - random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>Positions on a jittered grid (spacing apart, margin from the edges), fluxes log-uniform in [low, high].</summary>
    public static List<(double X, double Y, double Flux)> Grid(int width, int height, int spacing, int margin, double low, double high, Random random)
    {
        var stars = new List<(double, double, double)>();
        for (var y = margin; y < height - margin; y += spacing)
        {
            for (var x = margin; x < width - margin; x += spacing)
            {
                stars.Add((x + random.NextDouble() * 2 - 1, y + random.NextDouble() * 2 - 1, low * Math.Pow(high / low, random.NextDouble())));
            }
        }
        return stars;
    }

    public static float[] Render(int width, int height, Profile profile, IEnumerable<(double X, double Y, double Flux)> stars, double sigma, Random random)
    {
        var image = new float[width * height];
        foreach (var (x, y, f) in stars) AddStar(image, width, height, profile, x, y, f);
        AddNoise(image, sigma, random);
        return image;
    }
}
