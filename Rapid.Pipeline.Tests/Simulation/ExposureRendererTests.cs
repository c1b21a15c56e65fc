using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Simulation;

public class ExposureRendererTests
{
    private static readonly SurveySpec Noiseless = new()
    {
        FieldCentres = [(150.1, 2.2)], Size = 256, Epochs = 8, TransientsPerField = 3, VariablesPerField = 2,
        AddNoise = false, StarsPerSquareArcmin = 15, GalaxiesPerSquareArcmin = 10,
    };

    private static RenderedExposure Render(SurveySpec spec, int index)
    {
        var plans = SurveySchedule.Plan(spec);
        return ExposureRenderer.Render(spec, plans[index], FieldPopulation.Generate(spec, plans[index].FieldIndex));
    }

    /// <summary>Bright stars with no other truth object within 12 px and 12 px from the edges.</summary>
    private static IEnumerable<TruthRow> IsolatedBrightStars(RenderedExposure e) =>
        e.Truth.Where(t => t.Type == SkyObjectType.Star && t.FluxDn > 2000
                           && t.X > 13 && t.Y > 13 && t.X < e.Width - 12 && t.Y < e.Height - 12
                           && e.Truth.All(o => o.Id == t.Id || Math.Pow(o.X - t.X, 2) + Math.Pow(o.Y - t.Y, 2) > 144));

    [Fact]
    public void Truth_positions_land_on_isolated_bright_stars_in_a_noiseless_render()
    {
        var spec = Noiseless with { GalaxiesPerSquareArcmin = 0, TransientsPerField = 0, VariablesPerField = 0, StarMagnitudes = (17, 21) };
        var e = Render(spec, 5);
        var stars = IsolatedBrightStars(e).ToList();
        Assert.True(stars.Count >= 3, $"only {stars.Count} isolated bright stars");
        foreach (var s in stars)
        {
            var sky = SubtractSky(e);
            var (cx, cy) = StampRendererTests.Centroid(sky, e.Width, s.X - 1, s.Y - 1, 8);
            Assert.InRange(cx + 1 - s.X, -0.05, 0.05);
            Assert.InRange(cy + 1 - s.Y, -0.05, 0.05);
        }
    }

    [Fact]
    public void Truth_fluxes_match_aperture_sums_within_one_percent_in_a_noiseless_render()
    {
        var spec = Noiseless with { GalaxiesPerSquareArcmin = 0, TransientsPerField = 0, VariablesPerField = 0, StarMagnitudes = (17, 21) };
        var e = Render(spec, 3);
        var sky = SubtractSky(e);
        var stars = IsolatedBrightStars(e).ToList();
        Assert.NotEmpty(stars);
        foreach (var s in stars)
        {
            // 12 px radius holds all but (1 + r²/α²)^(1−β) ≈ 0.2 % of a Moffat of FWHM 1.5 px.
            var sum = StampRendererTests.ApertureSum(sky, e.Width, s.X - 1, s.Y - 1, 12);
            Assert.Equal(s.FluxDn, sum, s.FluxDn * 0.01);
        }
    }

    [Fact]
    public void Transients_are_dark_in_the_quiet_epochs_and_shine_in_the_last()
    {
        var spec = Noiseless;
        var plans = SurveySchedule.Plan(spec);
        var objects = FieldPopulation.Generate(spec, 0);
        var transients = objects.Where(o => o.Type == SkyObjectType.Transient).ToList();
        Assert.Equal(3, transients.Count);
        foreach (var plan in plans)
        {
            var e = ExposureRenderer.Render(spec, plan, objects);
            var rows = e.Truth.Where(t => t.Type == SkyObjectType.Transient).ToList();
            Assert.Equal(3, rows.Count);
            if (plan.Epoch < spec.TransientQuietEpochs) Assert.All(rows, r => Assert.Equal(0, r.FluxDn));
            if (plan.Epoch == spec.Epochs - 1) Assert.All(rows, r => Assert.True(r.FluxDn > 100));
        }
    }

    [Fact]
    public void A_transient_adds_its_truth_flux_to_the_image_at_its_position()
    {
        var spec = Noiseless with { TransientPeakMagnitudes = (20, 20.5) };
        var plans = SurveySchedule.Plan(spec);
        var objects = FieldPopulation.Generate(spec, 0);
        var withTransients = ExposureRenderer.Render(spec, plans[^1], objects);
        var without = ExposureRenderer.Render(spec, plans[^1], objects.Where(o => o.Type != SkyObjectType.Transient).ToList());
        var difference = withTransients.Pixels.Zip(without.Pixels, (a, b) => a - b).ToArray();
        var transients = withTransients.Truth.Where(t => t.Type == SkyObjectType.Transient).ToList();
        var apart = transients.Where(t => transients.All(o => o.Id == t.Id || Math.Pow(o.X - t.X, 2) + Math.Pow(o.Y - t.Y, 2) > 24 * 24)).ToList();
        Assert.NotEmpty(apart);
        foreach (var t in apart)
            Assert.Equal(t.FluxDn, StampRendererTests.ApertureSum(difference, spec.Size, t.X - 1, t.Y - 1, 12), t.FluxDn * 0.01);
    }

    [Fact]
    public void Variable_stars_change_flux_between_epochs()
    {
        var spec = Noiseless;
        var plans = SurveySchedule.Plan(spec);
        var objects = FieldPopulation.Generate(spec, 0);
        var fluxes = plans.Where(p => p.FilterIndex == 0)
            .Select(p => ExposureRenderer.Render(spec, p, objects).Truth.Where(t => t.Type == SkyObjectType.Variable).OrderBy(t => t.Id).Select(t => t.FluxDn).ToList())
            .ToList();
        for (var v = 0; v < fluxes[0].Count; v++)
        {
            var series = fluxes.Select(f => f[v]).ToList();
            Assert.True(series.Max() / series.Min() > 1.1);
        }
    }

    [Theory]
    [InlineData(0.0, 0.0)]      // major axis north, image +y north: elongated along y
    [InlineData(90.0, 0.0)]     // major axis east, east is −x: elongated along x
    [InlineData(0.0, 90.0)]     // image +y points east, so north lies along x
    public void Galaxy_major_axis_follows_its_sky_position_angle_through_the_roll(double galaxyPaDeg, double imagePaDeg)
    {
        var spec = Noiseless with { Size = 96, SipDistortion = false };
        var plan = SurveySchedule.Plan(spec)[0] with { PaDeg = imagePaDeg, CentreRaDeg = 150.1, CentreDecDeg = 2.2 };
        var galaxy = new SkyObject(1, SkyObjectType.Galaxy, 150.1, 2.2, new Dictionary<string, double> { ["F184"] = 19, ["H158"] = 19 },
            ConstantLightCurve.Instance, EffectiveRadiusArcsec: 0.6, SersicIndex: 1, AxisRatio: 0.3, PositionAngleDeg: galaxyPaDeg);
        var e = ExposureRenderer.Render(spec, plan, [galaxy]);
        var sky = SubtractSky(e);
        double sxx = 0, syy = 0;
        var (x0, y0) = (e.Truth[0].X - 1, e.Truth[0].Y - 1);
        for (var j = 0; j < 96; j++)
            for (var i = 0; i < 96; i++)
            {
                sxx += sky[j * 96 + i] * (i - x0) * (i - x0);
                syy += sky[j * 96 + i] * (j - y0) * (j - y0);
            }
        var alongY = Math.Abs(Math.Cos((galaxyPaDeg - imagePaDeg) * Math.PI / 180)) > 0.5;
        Assert.True(alongY ? syy > 3 * sxx : sxx > 3 * syy, $"second moments xx {sxx:G3}, yy {syy:G3}");
    }

    [Fact]
    public void Rendering_is_deterministic_for_a_seed_and_differs_for_another()
    {
        var spec = new SurveySpec { FieldCentres = [(150.1, 2.2)], Size = 128, Epochs = 6, TransientsPerField = 1 };
        var a = Render(spec, 7);
        var b = Render(spec, 7);
        var c = Render(spec with { Seed = 2 }, 7);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
    }

    [Fact]
    public void Noise_matches_sky_poisson_and_read_noise()
    {
        var spec = new SurveySpec { FieldCentres = [(150.1, 2.2)], Size = 256, StarsPerSquareArcmin = 0, GalaxiesPerSquareArcmin = 0,
            TransientsPerField = 0, VariablesPerField = 0, CosmicRaysPerMegapixel = 0, BadPixelsPerMegapixel = 0 };
        var e = Render(spec, 0);
        var mean = e.Pixels.Average(v => (double)v);
        var sd = Math.Sqrt(e.Pixels.Average(v => (v - mean) * (v - mean)));
        var expected = Math.Sqrt(e.SkyDn * spec.GainElectronsPerDn + spec.ReadNoiseElectrons * spec.ReadNoiseElectrons) / spec.GainElectronsPerDn;
        Assert.Equal(e.SkyDn, mean, 0.2);
        Assert.Equal(expected, sd, expected * 0.03);
    }

    [Fact]
    public void Cosmic_rays_bad_pixels_and_saturation_appear_with_noise_on()
    {
        var spec = new SurveySpec { FieldCentres = [(150.1, 2.2)], Size = 512, StarMagnitudes = (12, 20), SaturationDn = 30000 };
        var e = Render(spec, 0);
        Assert.True(e.CosmicRays > 0 && e.BadPixels > 0);
        Assert.Contains(e.Pixels, float.IsNaN);
        Assert.Equal(30000f, e.Pixels.Where(v => !float.IsNaN(v)).Max());
    }

    [Fact]
    public void Bad_pixels_stay_on_the_same_detector_pixels_from_exposure_to_exposure()
    {
        var spec = new SurveySpec { FieldCentres = [(150.1, 2.2)], Size = 256 };
        var nanA = Render(spec, 0).Pixels.Select((v, k) => (v, k)).Where(p => float.IsNaN(p.v)).Select(p => p.k).ToList();
        var nanB = Render(spec, 5).Pixels.Select((v, k) => (v, k)).Where(p => float.IsNaN(p.v)).Select(p => p.k).ToList();
        Assert.NotEmpty(nanA);
        Assert.Equal(nanA, nanB);
    }

    private static float[] SubtractSky(RenderedExposure e) => e.Pixels.Select(v => (float)(v - e.SkyDn)).ToArray();
}
