namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Turns an expected image (DN per exposure, sources only) into a detector read-out: adds the sky,
/// draws Poisson noise in electrons (gain e-/DN) and Gaussian read noise, adds cosmic-ray tracks
/// and bad pixels (hot, or NaN where dead), and clips at the saturation level without bleeding.
/// With <see cref="SurveySpec.AddNoise"/> false only the sky and the clipping are applied.
/// </summary>
public static class DetectorModel
{
    /// <summary>Applies the detector to <paramref name="image"/> in place; returns the number of cosmic rays and bad pixels added.</summary>
    public static (int CosmicRays, int BadPixels) Apply(float[] image, int width, int height, double skyDn, SurveySpec spec, int sca, Random rng)
    {
        var gain = spec.GainElectronsPerDn;
        var readNoiseDn = spec.ReadNoiseElectrons / gain;
        if (!spec.AddNoise)
        {
            for (var k = 0; k < image.Length; k++) image[k] = (float)Math.Min(image[k] + skyDn, spec.SaturationDn);
            return (0, 0);
        }

        // Poisson (electrons) plus Gaussian read noise. Above 30 e- the sum is drawn as one normal deviate of
        // variance λ + σ_read² (the Poisson's normal limit; its skew there is below 0.2 and it is not rounded to whole electrons).
        var noise = new PixelNoiseGenerator((ulong)rng.NextInt64());
        var readVariance = spec.ReadNoiseElectrons * spec.ReadNoiseElectrons;
        for (var k = 0; k < image.Length; k++)
        {
            var lambda = (image[k] + skyDn) * gain;
            image[k] = lambda >= 30
                ? (float)((lambda + Math.Sqrt(lambda + readVariance) * noise.NextGaussian()) / gain)
                : (float)(noise.NextSmallPoisson(lambda) / gain + readNoiseDn * noise.NextGaussian());
        }

        var megapixels = width * (double)height / 1e6;
        var rays = (int)Math.Round(spec.CosmicRaysPerMegapixel * megapixels);
        for (var r = 0; r < rays; r++)
        {
            // A short straight track, a few pixels long, depositing hundreds to thousands of DN per pixel.
            double x = rng.Uniform(0, width), y = rng.Uniform(0, height);
            var angle = rng.Uniform(0, Math.PI);
            var length = rng.Uniform(1, 8);
            var dn = rng.Uniform(300, 5000);
            for (var t = 0.0; t <= length; t += 0.5)
            {
                var i = (int)(x + t * Math.Cos(angle));
                var j = (int)(y + t * Math.Sin(angle));
                if (i >= 0 && j >= 0 && i < width && j < height) image[j * width + i] += (float)(dn * 0.5);
            }
        }

        // Bad pixels belong to the detector: the same pixels (and hot levels) in every exposure of the SCA.
        var bad = (int)Math.Round(spec.BadPixelsPerMegapixel * megapixels);
        var detector = SimulationRandom.For(spec.Seed, 51, sca, width, height);
        for (var b = 0; b < bad; b++)
        {
            var k = detector.Next(image.Length);
            image[k] = b % 2 == 0 ? float.NaN : (float)detector.Uniform(2000, spec.SaturationDn);
        }

        for (var k = 0; k < image.Length; k++)
            if (image[k] > spec.SaturationDn) image[k] = (float)spec.SaturationDn;
        return (rays, bad);
    }
}
