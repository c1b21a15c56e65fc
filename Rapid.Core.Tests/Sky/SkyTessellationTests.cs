using Rapid.Core.Sky;

namespace Rapid.Core.Tests.Sky;

public class SkyTessellationTests
{
    private static readonly SkyTessellation Roman = SkyTessellation.Roman;

    [Fact]
    public void Roman_tessellation_has_the_original_counts()
    {
        Assert.Equal(512, Roman.Nside);
        Assert.Equal(6_291_458, Roman.TileCount);
        Assert.Equal(2_049, Roman.BandCount);
        Assert.Equal(4_096, Enumerable.Range(0, Roman.BandCount).Max(Roman.BinsInBand));
        Assert.Equal(Roman.TileCount, Enumerable.Range(0, Roman.BandCount).Sum(b => (long)Roman.BinsInBand(b)));
    }

    [Fact]
    public void Nside_10_has_the_2402_tiles_of_the_original_illustration()
    {
        Assert.Equal(2_402, new SkyTessellation(10).TileCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(100)]
    public void Counts_follow_24_nside_squared_plus_2_in_4_nside_plus_1_bands(int nside)
    {
        var sky = new SkyTessellation(nside);
        Assert.Equal(24L * nside * nside + 2, sky.TileCount);
        Assert.Equal(4 * nside + 1, sky.BandCount);
        Assert.Equal(sky.TileCount, Enumerable.Range(0, sky.BandCount).Sum(b => (long)sky.BinsInBand(b)));
        Assert.Equal(1, sky.BinsInBand(0));
        Assert.Equal(1, sky.BinsInBand(4 * nside));
        Assert.Equal(8, sky.BinsInBand(1));
        Assert.Equal(8 * nside, sky.BinsInBand(2 * nside));
    }

    [Fact]
    public void Roman_tiles_near_the_equator_are_0_088_by_0_075_degrees()
    {
        var t = Roman.Tile(Roman.FieldOf(123.4, 0.01));
        Assert.Equal(360.0 / 4096, t.RaMaxDeg - t.RaMinDeg, 1e-12);
        Assert.Equal(0.0746, t.DecMaxDeg - t.DecMinDeg, 1e-4);
        Assert.Equal(0.0, t.CenterDecDeg, 1e-12);
        var cap = Roman.Tile(1);
        Assert.Equal(90.0 - 0.0457, cap.DecMinDeg, 1e-4);
    }

    [Fact]
    public void Numbering_starts_at_the_north_cap_and_runs_band_by_band_southwards()
    {
        var north = Roman.Tile(1);
        Assert.Equal((0.0, 90.0, 0.0, 360.0, 90.0), (north.CenterRaDeg, north.CenterDecDeg, north.RaMinDeg, north.RaMaxDeg, north.DecMaxDeg));
        var south = Roman.Tile(Roman.TileCount);
        Assert.Equal((0.0, -90.0, -90.0), (south.CenterRaDeg, south.CenterDecDeg, south.DecMinDeg));

        // Band 1 has 8 tiles (ids 2..9); its first one is centred on RA 0 and straddles it.
        var first = Roman.Tile(2);
        Assert.Equal(0.0, first.CenterRaDeg);
        Assert.Equal(-22.5, first.RaMinDeg, 1e-12);
        Assert.Equal(north.DecMinDeg, first.DecMaxDeg);
        Assert.Equal(45.0, Roman.Tile(3).CenterRaDeg, 1e-12);
        Assert.Equal(first.DecMinDeg, Roman.Tile(10).DecMaxDeg); // band 2 starts at id 10
        Assert.Equal(0.0, Roman.Tile(10).CenterRaDeg);

        for (long f = 2; f < 2000; f++)
        {
            var a = Roman.Tile(f - 1);
            var b = Roman.Tile(f);
            Assert.True(b.DecMaxDeg < a.DecMaxDeg || (b.DecMaxDeg == a.DecMaxDeg && b.CenterRaDeg > a.CenterRaDeg), $"field {f} is out of order");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(16)]
    public void Every_tile_centre_maps_back_to_its_tile(int nside)
    {
        var sky = new SkyTessellation(nside);
        for (long f = 1; f <= sky.TileCount; f++)
        {
            var t = sky.Tile(f);
            Assert.Equal(f, sky.FieldOf(t.CenterRaDeg, t.CenterDecDeg));
        }
    }

    [Fact]
    public void Sampled_Roman_tile_centres_map_back_to_their_tiles()
    {
        for (long f = 1; f <= Roman.TileCount; f += 631)
        {
            var t = Roman.Tile(f);
            Assert.Equal(f, Roman.FieldOf(t.CenterRaDeg, t.CenterDecDeg));
        }
        var last = Roman.Tile(Roman.TileCount - 1);
        Assert.Equal(Roman.TileCount - 1, Roman.FieldOf(last.CenterRaDeg, last.CenterDecDeg));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(512)]
    public void Lower_edges_belong_to_the_tile_and_upper_edges_to_the_next(int nside)
    {
        var sky = new SkyTessellation(nside);
        long step = nside == 512 ? 1009 : 1;
        for (long f = 2; f < sky.TileCount; f += step)
        {
            var t = sky.Tile(f);
            // Lower-left corner is inside.
            Assert.Equal(f, sky.FieldOf(t.RaMinDeg, t.DecMinDeg));
            // Upper RA edge belongs to the next bin of the band (wrapping to the band's first bin).
            long east = sky.FieldOf(t.RaMaxDeg, t.DecMinDeg);
            var e = sky.Tile(east);
            Assert.Equal(t.DecMinDeg, e.DecMinDeg);
            Assert.Equal(SphericalGeometry.NormalizeRaDeg(t.RaMaxDeg), SphericalGeometry.NormalizeRaDeg(e.RaMinDeg), 1e-9);
            Assert.NotEqual(f, east);
            // Upper Dec edge belongs to the band to the north.
            var n = sky.Tile(sky.FieldOf(t.CenterRaDeg, t.DecMaxDeg));
            Assert.Equal(t.DecMaxDeg, n.DecMinDeg);
        }
    }

    [Fact]
    public void RA_wraps_at_0_and_360()
    {
        long atZero = Roman.FieldOf(0, 0);
        Assert.Equal(atZero, Roman.FieldOf(360, 0));
        Assert.Equal(atZero, Roman.FieldOf(359.9999, 0));
        Assert.Equal(atZero, Roman.FieldOf(-0.0001, 0));
        Assert.Equal(atZero, Roman.FieldOf(720.0001, 0));
        Assert.Equal(0.0, Roman.Tile(atZero).CenterRaDeg);
        var last = Roman.Tile(Roman.FieldOf(359.9, 0));
        Assert.Equal(atZero + 4095, last.Field);
        Assert.Equal(360.0 - 360.0 / 4096, last.CenterRaDeg, 1e-9);
    }

    [Fact]
    public void Poles_fall_in_the_caps_and_near_pole_points_in_the_first_bands()
    {
        Assert.Equal(1, Roman.FieldOf(0, 90));
        Assert.Equal(1, Roman.FieldOf(271.3, 90));
        Assert.Equal(1, Roman.FieldOf(10, 89.99));
        Assert.Equal(Roman.TileCount, Roman.FieldOf(0, -90));
        Assert.Equal(Roman.TileCount, Roman.FieldOf(99, -89.99));
        // 89.95 is outside the cap (edge 89.954): band 1, which has 8 tiles of 45 deg.
        Assert.Equal(2, Roman.FieldOf(10, 89.95));
        Assert.Equal(3, Roman.FieldOf(30, 89.95));
        Assert.Equal(Roman.TileCount - 8, Roman.FieldOf(0, -89.95));
        Assert.Equal(Roman.TileCount - 8, Roman.FieldOf(-10, -89.95)); // bin 0 spans RA -22.5..22.5
        Assert.Equal(Roman.TileCount - 1, Roman.FieldOf(-30, -89.95));
    }

    [Fact]
    public void Bad_coordinates_and_ids_are_rejected_naming_the_value()
    {
        Assert.Contains("90.5", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.FieldOf(0, 90.5)).Message);
        Assert.Contains("-91", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.FieldOf(0, -91)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.FieldOf(0, double.NaN)).Message);
        Assert.Contains("RA", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.FieldOf(double.PositiveInfinity, 0)).Message);
        Assert.Contains("field 0", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.Tile(0)).Message);
        Assert.Contains("6291459", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.Tile(6_291_459)).Message);
        Assert.Contains("-1", Assert.Throws<ArgumentOutOfRangeException>(() => Roman.FieldsWithin(0, 0, -1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Roman.Neighbours(6_291_459));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SkyTessellation(0));
    }

    [Fact]
    public void FieldsWithin_contains_the_field_of_every_point_in_the_cone()
    {
        var rng = new Random(424242);
        var centres = new List<(double Ra, double Dec)>
        {
            (0, 0), (359.99, 10), (0.01, -30), (180, 89.9), (17, 89.99), (250, 90), (0, -90),
            (300, -89.7), (45, 88.5), (0.02, 89.0), (359.98, -88.9), (90, 41.81), (12, -41.81),
        };
        for (int i = 0; i < 27; i++)
            centres.Add((rng.NextDouble() * 360, Math.Asin(2 * rng.NextDouble() - 1) * 180 / Math.PI));

        int checkedPoints = 0;
        foreach (var (ra, dec) in centres)
        {
            double radius = rng.Next(4) switch { 0 => 0.01, 1 => 0.1, 2 => 0.5, _ => 1.5 };
            var within = new HashSet<long>(Roman.FieldsWithin(ra, dec, radius));
            Assert.Contains(Roman.FieldOf(ra, dec), within);
            for (int k = 0; k < 400; k++)
            {
                // Uniform bearing; distance biased to the rim (where misses would happen), a quarter exactly on it.
                double distance = k % 4 == 0 ? radius : radius * Math.Sqrt(rng.NextDouble());
                var (pr, pd) = Offset(ra, dec, rng.NextDouble() * 360, distance);
                Assert.True(within.Contains(Roman.FieldOf(pr, pd)),
                    $"cone ({ra}, {dec}, r={radius}) misses field {Roman.FieldOf(pr, pd)} of point ({pr}, {pd})");
                checkedPoints++;
            }
        }
        Assert.Equal(40 * 400, checkedPoints);
    }

    [Fact]
    public void FieldsWithin_returns_only_tiles_near_the_cone()
    {
        var rng = new Random(99);
        for (int i = 0; i < 30; i++)
        {
            double ra = rng.NextDouble() * 360, dec = rng.NextDouble() * 178 - 89, radius = 0.3;
            var fields = Roman.FieldsWithin(ra, dec, radius);
            Assert.Equal(fields.Order().Distinct(), fields);
            foreach (long f in fields)
            {
                var t = Roman.Tile(f);
                double halfDiagonal = SphericalGeometry.AngularSeparationDeg(t.RaMinDeg, t.DecMinDeg, t.RaMaxDeg, t.DecMaxDeg);
                Assert.True(SphericalGeometry.AngularSeparationDeg(ra, dec, t.CenterRaDeg, t.CenterDecDeg) <= radius + halfDiagonal,
                    $"field {f} at ({t.CenterRaDeg}, {t.CenterDecDeg}) is not near the cone ({ra}, {dec}, {radius})");
            }
            // A 0.3 deg cone covers ~0.28 deg²; tiles are ~0.0066 deg² near the equator, smaller in RA towards the poles.
            Assert.InRange(fields.Count, 20, 400);
        }
    }

    [Fact]
    public void FieldsWithin_a_cone_around_a_pole_takes_whole_bands()
    {
        var sky = new SkyTessellation(8);
        // Band 1 lies between the cap edge and the next ring; a cone reaching past it includes all 8 + 1 tiles.
        double band1South = sky.Tile(2).DecMinDeg;
        var fields = sky.FieldsWithin(123, 90, 90 - band1South + 0.01);
        Assert.Equal(Enumerable.Range(1, 9 + 16).Select(i => (long)i), fields.Take(25));
        Assert.Equal(sky.TileCount, sky.FieldsWithin(0, 0, 180).Count);
        Assert.Equal([1L], sky.FieldsWithin(0, 90, 0));
    }

    [Fact]
    public void Neighbours_are_symmetric_and_never_include_the_tile()
    {
        var sky = new SkyTessellation(8);
        var neighbours = new Dictionary<long, IReadOnlyList<long>>();
        for (long f = 1; f <= sky.TileCount; f++) neighbours[f] = sky.Neighbours(f);
        foreach (var (f, list) in neighbours)
        {
            Assert.DoesNotContain(f, list);
            Assert.Equal(list.Order().Distinct(), list);
            foreach (long g in list)
                Assert.True(neighbours[g].Contains(f), $"{g} is a neighbour of {f} but not the reverse");
        }
    }

    [Fact]
    public void Neighbours_of_an_equatorial_tile_are_the_8_around_it()
    {
        long f = Roman.FieldOf(100.0, 0.0);
        var list = Roman.Neighbours(f);
        Assert.Equal(8, list.Count);
        Assert.Equal([f - 4097, f - 4096, f - 4095, f - 1, f + 1, f + 4095, f + 4096, f + 4097], list);
    }

    [Fact]
    public void Neighbours_of_the_caps_are_the_first_and_last_bands()
    {
        Assert.Equal(Enumerable.Range(2, 8).Select(i => (long)i), Roman.Neighbours(1));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => Roman.TileCount - 8 + i), Roman.Neighbours(Roman.TileCount));
        Assert.Contains(1L, Roman.Neighbours(5));
    }

    [Fact]
    public void Points_just_across_each_edge_and_corner_land_in_neighbours()
    {
        var rng = new Random(5);
        const double eps = 1e-7;
        for (int i = 0; i < 3000; i++)
        {
            long f = 2 + (long)(rng.NextDouble() * (Roman.TileCount - 2));
            var t = Roman.Tile(f);
            var list = Roman.Neighbours(f);
            foreach (double ra in new[] { t.RaMinDeg - eps, t.CenterRaDeg, t.RaMaxDeg + eps })
                foreach (double dec in new[] { t.DecMinDeg - eps, t.CenterDecDeg, t.DecMaxDeg + eps })
                {
                    long g = Roman.FieldOf(ra, Math.Clamp(dec, -90, 90));
                    Assert.True(g == f || list.Contains(g), $"({ra}, {dec}) next to field {f} is in field {g}, not a neighbour");
                }
        }
    }

    // Destination point at `distanceDeg` along `bearingDeg` (east of north) from (ra, dec): standard spherical trigonometry.
    private static (double Ra, double Dec) Offset(double raDeg, double decDeg, double bearingDeg, double distanceDeg)
    {
        const double d2r = Math.PI / 180;
        double dec = decDeg * d2r, b = bearingDeg * d2r, s = distanceDeg * d2r;
        double sinDec2 = Math.Clamp(Math.Sin(dec) * Math.Cos(s) + Math.Cos(dec) * Math.Sin(s) * Math.Cos(b), -1, 1);
        double dec2 = Math.Asin(sinDec2);
        double dRa = Math.Atan2(Math.Sin(b) * Math.Sin(s) * Math.Cos(dec), Math.Cos(s) - Math.Sin(dec) * sinDec2);
        return (raDeg + dRa / d2r, dec2 / d2r);
    }
}
