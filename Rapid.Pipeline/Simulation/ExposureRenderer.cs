namespace Rapid.Pipeline.Simulation;

/// <summary>One object as it appears in one exposure: X, Y are 1-based FITS pixels; FluxDn is DN in that exposure; Mag is AB (+∞ when dark).</summary>
public sealed record TruthRow(long Id, SkyObjectType Type, double RaDeg, double DecDeg, double X, double Y, double Mag, double FluxDn);

/// <summary>A rendered exposure in memory: pixels (row-major, 0-based (x, y), DN per exposure), its WCS and what is on it.</summary>
public sealed record RenderedExposure(
    ExposurePlan Plan, int Width, int Height, float[] Pixels, SimulatedWcs Wcs, IReadOnlyList<TruthRow> Truth,
    double SkyDn, double ZeroPointMag, int CosmicRays, int BadPixels);

/// <summary>
/// Renders one planned exposure: places every object of the field through the exposure's WCS, draws stars,
/// transients and variables with the (position-dependent) PSF and galaxies as PSF-convolved Sersic profiles,
/// then applies the detector. Fluxes: DN = 10^(−0.4 (m − ZPTMAG)) · EXPTIME, with ZPTMAG the DN/s zero point.
/// </summary>
public static class ExposureRenderer
{
    public static RenderedExposure Render(SurveySpec spec, ExposurePlan plan, IReadOnlyList<SkyObject> objects)
    {
        var size = spec.Size;
        var wcs = SimulatedWcs.Create(plan.CentreRaDeg, plan.CentreDecDeg, plan.PaDeg, spec.PixelScaleArcsec, size, size, spec.SipDistortion, plan.Sca);
        var zpt = plan.Filter.ZeroPointMagnitudeForDnPerSecond(spec.GainElectronsPerDn);
        var skyDn = plan.Filter.SkyElectronsPerSecondPerPixel * spec.ExposureTimeSeconds / spec.GainElectronsPerDn;
        var pixels = new float[size * size];
        var truth = new List<TruthRow>();
        var (cx, cy) = (wcs.Crpix1, wcs.Crpix2);
        var cornerRadius = SimulatedWcs.ScaHalfSizePixels * Math.Sqrt(2);
        const double margin = 64;   // objects just off the image still spill light onto it

        foreach (var o in objects)
        {
            var (x, y) = wcs.SkyToPixel(o.RaDeg, o.DecDeg);
            if (x < 0.5 - margin || y < 0.5 - margin || x > size + 0.5 + margin || y > size + 0.5 + margin) continue;
            var mag = o.MagnitudeAt(plan.Filter.Name, plan.MjdObs);
            var flux = double.IsPositiveInfinity(mag) ? 0 : Math.Pow(10, -0.4 * (mag - zpt)) * spec.ExposureTimeSeconds;
            var radiusFraction = Math.Min(1, Math.Sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) / cornerRadius);
            var psf = MoffatPsf.For(plan.Filter, spec.PixelScaleArcsec, radiusFraction, spec.PsfVariationAcrossSca);
            if (o.IsExtended)
            {
                // Major-axis angle from +x: PA is east of north; image +y is at the exposure's PA, east is −x at PA 0.
                var theta = (90 + o.PositionAngleDeg - plan.PaDeg) * Math.PI / 180;
                StampRenderer.AddSersicGalaxy(pixels, size, size, x - 1, y - 1, flux,
                    o.EffectiveRadiusArcsec / spec.PixelScaleArcsec, o.SersicIndex, o.AxisRatio, theta, psf);
            }
            else
            {
                StampRenderer.AddPointSource(pixels, size, size, x - 1, y - 1, flux, psf);
            }
            if (x >= 0.5 && y >= 0.5 && x < size + 0.5 && y < size + 0.5)
                truth.Add(new TruthRow(o.Id, o.Type, o.RaDeg, o.DecDeg, x, y, mag, flux));
        }

        var rng = SimulationRandom.For(spec.Seed, 31, plan.FieldIndex, plan.FilterIndex, plan.Epoch, plan.Sca);
        var (rays, bad) = DetectorModel.Apply(pixels, size, size, skyDn, spec, plan.Sca, rng);
        return new RenderedExposure(plan, size, size, pixels, wcs, truth, skyDn, zpt, rays, bad);
    }
}
