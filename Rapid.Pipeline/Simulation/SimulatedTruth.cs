using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation.Injection;

namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Reads a per-image truth catalog back, so a night on simulated data can be scored against the simulator's
/// own transients with the same matching as injected sources.
/// </summary>
public static class SimulatedTruth
{
    /// <summary>The TRUTH table of a per-image truth file (X, Y 1-based FITS pixels, FLUX DN, MAG +∞ when dark).</summary>
    public static IReadOnlyList<TruthRow> Read(string truthPath)
    {
        var t = FitsFile.ReadTable(truthPath, "TRUTH");
        var (ids, types, ra, dec) = (t.GetLongs("ID"), t.GetStrings("TYPE"), t.GetDoubles("RA"), t.GetDoubles("DEC"));
        var (x, y, mag, flux) = (t.GetDoubles("X"), t.GetDoubles("Y"), t.GetDoubles("MAG"), t.GetDoubles("FLUX"));
        return Enumerable.Range(0, t.RowCount).Select(i => new TruthRow(ids[i], ParseType(types[i].Trim(), truthPath), ra[i], dec[i], x[i], y[i],
            double.IsNaN(mag[i]) ? double.PositiveInfinity : mag[i], flux[i])).ToList();
    }

    /// <summary>The transients shining on an image (flux above <paramref name="minFluxDn"/>), as sources to match detections against.</summary>
    public static IReadOnlyList<InjectedSource> TransientsToRecover(IReadOnlyList<TruthRow> rows, double minFluxDn = 0) =>
        rows.Where(r => r.Type == SkyObjectType.Transient && r.FluxDn > minFluxDn)
            .Select((r, i) => new InjectedSource(i + 1, r.X, r.Y, r.RaDeg, r.DecDeg, r.Mag, r.FluxDn)).ToList();

    private static SkyObjectType ParseType(string name, string path)
    {
        foreach (var type in Enum.GetValues<SkyObjectType>())
            if (SkyObject.TypeName(type) == name) return type;
        throw new FitsFormatException(path, $"truth TYPE '{name}' is not star, galaxy, transient or variable");
    }
}
