namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Draws the objects of one field: stars and galaxies uniformly over the area every dither can see,
/// magnitudes from dN/dm ∝ 10^(0.3 m) (a typical faint-end slope of star and near-infrared galaxy counts),
/// colours as a linear slope in magnitude per micron of effective wavelength, galaxy shapes (Sersic index
/// 1 for discs, 4 for bulges or in between; sizes shrinking with magnitude), supernova-like transients
/// offset from host galaxies (exploding after the quiet epochs), and pulsating variable stars.
/// Deterministic for (seed, field index).
/// </summary>
public static class FieldPopulation
{
    public static IReadOnlyList<SkyObject> Generate(SurveySpec spec, int fieldIndex)
    {
        var filters = spec.ResolvedFilters();
        var refLambda = filters[0].EffectiveWavelengthMicron;
        var (ra0, dec0) = spec.FieldCentres[fieldIndex];
        var rng = SimulationRandom.For(spec.Seed, 21, fieldIndex);
        var scaleRad = spec.PixelScaleArcsec / 3600 * Math.PI / 180;
        // Half-width (px) of the square that every rotated, dithered exposure of the field can see.
        var farthestScaPx = RomanFocalPlane.CentredOffsetsArcmin(spec.Scas).Values
            .Max(o => Math.Sqrt(o.X * o.X + o.Y * o.Y)) * 60 / spec.PixelScaleArcsec;
        var halfPx = farthestScaPx + spec.Size / 2.0 * Math.Sqrt(2) + spec.MaxDitherPixels * Math.Sqrt(2) + 16;
        var areaArcmin2 = Math.Pow(2 * halfPx * spec.PixelScaleArcsec / 60, 2);
        var objects = new List<SkyObject>();
        long nextId = (long)(fieldIndex + 1) * 10_000_000 + 1;

        Dictionary<string, double> Colours(double mag, double slopeLo, double slopeHi)
        {
            var slope = rng.Uniform(slopeLo, slopeHi);
            return filters.ToDictionary(f => f.Name, f => mag + slope * (f.EffectiveWavelengthMicron - refLambda));
        }
        (double Ra, double Dec) Place(double innerFraction)
        {
            var lim = halfPx * innerFraction;
            return SimulatedWcs.Deproject(ra0, dec0, rng.Uniform(-lim, lim) * scaleRad, rng.Uniform(-lim, lim) * scaleRad);
        }

        var stars = (int)Math.Round(spec.StarsPerSquareArcmin * areaArcmin2);
        for (var i = 0; i < stars; i++)
        {
            var (ra, dec) = Place(1);
            var mag = rng.NextPowerLawMagnitude(spec.StarMagnitudes.Bright, spec.StarMagnitudes.Faint);
            objects.Add(new SkyObject(nextId++, SkyObjectType.Star, ra, dec, Colours(mag, -0.6, 0.3), ConstantLightCurve.Instance));
        }

        var galaxies = (int)Math.Round(spec.GalaxiesPerSquareArcmin * areaArcmin2);
        for (var i = 0; i < galaxies; i++)
        {
            var (ra, dec) = Place(1);
            var mag = rng.NextPowerLawMagnitude(spec.GalaxyMagnitudes.Bright, spec.GalaxyMagnitudes.Faint);
            var re = Math.Clamp(0.35 * Math.Pow(10, -0.12 * (mag - 22)) * Math.Exp(0.3 * rng.NextGaussian()), 0.08, 1.2);
            var kind = rng.NextDouble();
            var n = kind < 0.5 ? 1.0 : kind < 0.75 ? 4.0 : rng.Uniform(1.5, 3);
            objects.Add(new SkyObject(nextId++, SkyObjectType.Galaxy, ra, dec, Colours(mag, -0.2, 0.8), ConstantLightCurve.Instance,
                re, n, rng.Uniform(0.35, 1), rng.Uniform(0, 180)));
        }

        // Transients and variables stay well inside the smallest footprint, so every epoch sees them.
        var inner = spec.Size / 2.0 * 0.8 / halfPx;
        bool Inside(SkyObject o)
        {
            var (xi, eta) = SimulatedWcs.Project(ra0, dec0, o.RaDeg, o.DecDeg);
            var lim = spec.Size / 2.0 * 0.8 * scaleRad;
            return Math.Abs(xi) < lim && Math.Abs(eta) < lim;
        }

        var hosts = objects.Where(o => o.Type == SkyObjectType.Galaxy && o.ReferenceMagnitudes[filters[0].Name] < 23.5 && Inside(o)).ToList();
        var firstLive = SurveySchedule.NominalEpochMjd(spec, spec.TransientQuietEpochs - 1) + 0.5;   // after the last quiet night
        var lastLive = SurveySchedule.NominalEpochMjd(spec, Math.Max(0, spec.Epochs - 2)) + 0.5;
        for (var i = 0; i < spec.TransientsPerField; i++)
        {
            // Distinct hosts while there are enough, so transients do not pile up on one galaxy.
            SkyObject? host = null;
            if (hosts.Count > 0)
            {
                var k = rng.Next(hosts.Count);
                host = hosts[k];
                hosts.RemoveAt(k);
            }
            double ra, dec;
            if (host is not null)
            {
                var r = rng.Uniform(0.2, 1.0) * host.EffectiveRadiusArcsec / 3600 * Math.PI / 180;
                var phi = rng.Uniform(0, 2 * Math.PI);
                var (hx, hy) = SimulatedWcs.Project(ra0, dec0, host.RaDeg, host.DecDeg);
                (ra, dec) = SimulatedWcs.Deproject(ra0, dec0, hx + r * Math.Cos(phi), hy + r * Math.Sin(phi));
            }
            else (ra, dec) = Place(inner);
            var peak = rng.Uniform(spec.TransientPeakMagnitudes.Bright, spec.TransientPeakMagnitudes.Faint);
            var curve = new SupernovaLightCurve(rng.Uniform(firstLive, lastLive), rng.Uniform(1.5, 3), rng.Uniform(8, 20));
            objects.Add(new SkyObject(nextId++, SkyObjectType.Transient, ra, dec, Colours(peak, -0.3, 0.3), curve, HostId: host?.Id ?? 0));
        }

        var candidates = objects.Where(o => o.Type == SkyObjectType.Star && Inside(o)
                                            && o.ReferenceMagnitudes[filters[0].Name] is > 18 and < 22).ToList();
        for (var i = 0; i < spec.VariablesPerField; i++)
        {
            var curve = new PulsatingLightCurve(rng.Uniform(0.2, 0.7), rng.Uniform(0.4, 4), firstLive + rng.Uniform(0, 4));
            if (candidates.Count > 0)
            {
                var k = rng.Next(candidates.Count);
                var star = candidates[k];
                candidates.RemoveAt(k);
                objects[objects.IndexOf(star)] = star with { Type = SkyObjectType.Variable, LightCurve = curve };
            }
            else
            {
                var (ra, dec) = Place(inner);
                objects.Add(new SkyObject(nextId++, SkyObjectType.Variable, ra, dec, Colours(rng.Uniform(18, 21), -0.3, 0.3), curve));
            }
        }
        return objects;
    }
}
