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
    public static (int CosmicRays, int BadPixels) Apply(float[] image, int width, int height, double skyDn, SurveySpec spec, Random rng)
    {
        var gain = spec.GainElectronsPerDn;
        var readNoiseDn = spec.ReadNoiseElectrons / gain;
        if (!spec.AddNoise)
        {
            for (var k = 0; k < image.Length; k++) image[k] = (float)Math.Min(image[k] + skyDn, spec.SaturationDn);
            return (0, 0);
        }

        for (var k = 0; k < image.Length; k++)
        {
            var electrons = rng.NextPoisson((image[k] + skyDn) * gain);
            image[k] = (float)(electrons / gain + readNoiseDn * rng.NextGaussian());
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

        var bad = (int)Math.Round(spec.BadPixelsPerMegapixel * megapixels);
        for (var b = 0; b < bad; b++)
        {
            var k = rng.Next(image.Length);
            image[k] = b % 2 == 0 ? float.NaN : (float)rng.Uniform(2000, spec.SaturationDn);
        }

        for (var k = 0; k < image.Length; k++)
            if (image[k] > spec.SaturationDn) image[k] = (float)spec.SaturationDn;
        return (rays, bad);
    }
}
