using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Tests.Fits.Support;
using Rapid.Pipeline.Simulation.Injection;

namespace Rapid.Pipeline.Tests.Simulation.Injection;

public class InjectionRecoveryTests
{
    private static InjectedSource Source(int i, double x, double y, double mag, double flux = 1000) => new(i, x, y, 0, 0, mag, flux);

    [Fact]
    public void Matching_is_one_to_one_closest_first_within_the_radius()
    {
        var injected = new[] { Source(1, 10, 10, 20), Source(2, 11, 10, 20), Source(3, 50, 50, 20) };
        var detected = new[] { new DetectedSource(10.9, 10, 900, 30), new DetectedSource(80, 80, 5, 1) };
        var rows = InjectionRecovery.Match(injected, detected, radiusPixels: 1.5);
        Assert.False(rows[0].Found);                   // the detection is closer to source 2
        Assert.True(rows[1].Found);
        Assert.Equal(900, rows[1].MeasuredFlux);
        Assert.Equal(30, rows[1].SignalToNoise, 9);
        Assert.Equal(0.1, rows[1].SeparationPixels, 9);
        Assert.False(rows[2].Found);
        Assert.True(double.IsNaN(rows[2].MeasuredFlux));
    }

    [Fact]
    public void Flux_units_are_converted_before_the_bias()
    {
        var rows = InjectionRecovery.Match([Source(1, 10, 10, 20, flux: 1398)], [new DetectedSource(10, 10, 11, 1)], 1.5, 1 / 139.8);
        Assert.Equal(10, rows[0].InjectedFlux, 9);
        Assert.Equal(0.1, InjectionRecovery.Summarise(rows).FluxBias, 9);
    }

    [Fact]
    public void Completeness_magnitudes_interpolate_where_recovery_falls_off()
    {
        // Bins of 1 mag: 100 % found at 20 and 21, 80 % at 22, 40 % at 23, 0 % at 24.
        var fractions = new Dictionary<int, double> { [20] = 1, [21] = 1, [22] = 0.8, [23] = 0.4, [24] = 0 };
        var injected = new List<InjectedSource>();
        var detected = new List<DetectedSource>();
        var i = 0;
        foreach (var (mag, fraction) in fractions)
            for (var k = 0; k < 10; k++)
            {
                var s = Source(++i, 20 * i, 10, mag + 0.5);
                injected.Add(s);
                if (k < fraction * 10) detected.Add(new DetectedSource(s.X, s.Y, 1000, 10));
            }
        var summary = InjectionRecovery.Summarise(InjectionRecovery.Match(injected, detected), binWidthMag: 1);
        Assert.Equal(5, summary.Bins.Count);
        Assert.Equal((50, 32), (summary.Injected, summary.Found));
        // 90 % between 21.5 (1.0) and 22.5 (0.8): 22.0; 50 % between 22.5 (0.8) and 23.5 (0.4): 23.25.
        Assert.Equal(22.0, summary.Magnitude90!.Value, 9);
        Assert.Equal(23.25, summary.Magnitude50!.Value, 9);
        Assert.Equal(0, summary.FluxBias, 9);
    }

    [Fact]
    public void Completeness_that_never_falls_has_no_crossing_magnitude()
    {
        var rows = InjectionRecovery.Match([Source(1, 10, 10, 20), Source(2, 40, 10, 21)],
            [new DetectedSource(10, 10, 1, 1), new DetectedSource(40, 10, 1, 1)]);
        var summary = InjectionRecovery.Summarise(rows);
        Assert.Null(summary.Magnitude50);
        Assert.Null(summary.Magnitude90);
    }

    [Fact]
    public void Derived_table_has_one_row_per_injected_source_and_passes_fitsverify()
    {
        var rows = InjectionRecovery.Match([Source(1, 10, 10, 20), Source(2, 40, 10, 21)], [new DetectedSource(10, 10, 1, 1)]);
        var table = new FitsTable("INJECTED");
        RecoveryTable.AddColumns(table, rows.Select(r => new RecoveryTable.Entry("fake", r, Masked: false)).ToList());
        Assert.Equal(2, table.RowCount);
        Assert.Equal([1L, 0L], table.GetLongs("FOUND"));
        Assert.Equal(rows, RecoveryTable.Read(table).Select(e => e.Row));
        using var dir = new TempDirectory();
        FitsFile.WriteTable(dir.File("inj.fits"), new FitsHeader(), table);
        FitsVerify.AssertValid(dir.File("inj.fits"));
    }
}
