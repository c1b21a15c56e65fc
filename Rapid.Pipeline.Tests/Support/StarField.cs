namespace Rapid.Pipeline.Tests.Support;

/// <summary>Draws synthetic point sources and noise into row-major float arrays (0-based x, y; pixel centres at integers).</summary>
internal static class StarField
{
    /// <summary>Adds a circular Gaussian of total <paramref name="flux"/>, integrated over each pixel by 5x5 sub-sampling.</summary>
    public static void AddGaussian(float[] image, int width, int height, double x0, double y0, double flux, double sigma)
    {
        var radius = (int)Math.Ceiling(6 * sigma);
        var norm = flux / (2 * Math.PI * sigma * sigma) / 25.0;
        for (var y = Math.Max(0, (int)y0 - radius); y <= Math.Min(height - 1, (int)y0 + radius); y++)
            for (var x = Math.Max(0, (int)x0 - radius); x <= Math.Min(width - 1, (int)x0 + radius); x++)
            {
                double sum = 0;
                for (var sy = -2; sy <= 2; sy++)
                    for (var sx = -2; sx <= 2; sx++)
                    {
                        double dx = x + sx / 5.0 - x0, dy = y + sy / 5.0 - y0;
                        sum += Math.Exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
                    }
                image[y * width + x] += (float)(sum * norm);
            }
    }

    public static void AddNoise(float[] image, double sigma, Random random)
    {
        for (var i = 0; i < image.Length; i++) image[i] += (float)(sigma * Normal(random));
    }

    public static float[] Constant(int count, float value) => Enumerable.Repeat(value, count).ToArray();

    /// <summary>A standard normal deviate (Box–Muller).</summary>
    public static double Normal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
