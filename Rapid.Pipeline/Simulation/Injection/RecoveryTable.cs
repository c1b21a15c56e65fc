using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Simulation.Injection;

/// <summary>
/// The per-source columns every injection-recovery table carries, the science job's and the night's alike:
/// KIND (fake or transient), INDEX, X, Y (1-based FITS pixels on the science image), RA, DEC (deg), MAG (AB),
/// FLUX_IN, FOUND, FLUX_OUT, FLUXERR (DN/s; NaN when not found), SNR, SEP (pix) and MASKED (1 when the source fell
/// on a masked pixel of the searched image, so it could not be found).
/// </summary>
public static class RecoveryTable
{
    public sealed record Entry(string Kind, RecoveryRow Row, bool Masked);

    public static void AddColumns(FitsTable t, IReadOnlyList<Entry> rows)
    {
        ArgumentNullException.ThrowIfNull(t);
        t.AddColumn("KIND", rows.Select(r => r.Kind).ToArray(), 9);
        t.AddColumn("INDEX", rows.Select(r => r.Row.Injected.Index).ToArray());
        t.AddColumn("X", rows.Select(r => r.Row.Injected.X).ToArray(), "pix");
        t.AddColumn("Y", rows.Select(r => r.Row.Injected.Y).ToArray(), "pix");
        t.AddColumn("RA", rows.Select(r => r.Row.Injected.RaDeg).ToArray(), "deg");
        t.AddColumn("DEC", rows.Select(r => r.Row.Injected.DecDeg).ToArray(), "deg");
        t.AddColumn("MAG", rows.Select(r => r.Row.Injected.Mag).ToArray(), "mag");
        t.AddColumn("FLUX_IN", rows.Select(r => r.Row.InjectedFlux).ToArray(), ProductUnits.Rate);
        t.AddColumn("FOUND", rows.Select(r => (short)(r.Row.Found ? 1 : 0)).ToArray());
        t.AddColumn("FLUX_OUT", rows.Select(r => r.Row.MeasuredFlux).ToArray(), ProductUnits.Rate);
        t.AddColumn("FLUXERR", rows.Select(r => r.Row.MeasuredFluxError).ToArray(), ProductUnits.Rate);
        t.AddColumn("SNR", rows.Select(r => r.Row.SignalToNoise).ToArray());
        t.AddColumn("SEP", rows.Select(r => r.Row.SeparationPixels).ToArray(), "pix");
        t.AddColumn("MASKED", rows.Select(r => (short)(r.Masked ? 1 : 0)).ToArray());
    }

    /// <summary>The rows of a table written with <see cref="AddColumns"/> (a table without MASKED: none masked).</summary>
    public static IEnumerable<Entry> Read(FitsTable t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var (kind, index, x, y) = (t.GetStrings("KIND"), t.GetLongs("INDEX"), t.GetDoubles("X"), t.GetDoubles("Y"));
        var (ra, dec, mag, fluxIn) = (t.GetDoubles("RA"), t.GetDoubles("DEC"), t.GetDoubles("MAG"), t.GetDoubles("FLUX_IN"));
        var (found, fluxOut, fluxErr, snr, sep) = (t.GetLongs("FOUND"), t.GetDoubles("FLUX_OUT"), t.GetDoubles("FLUXERR"), t.GetDoubles("SNR"), t.GetDoubles("SEP"));
        var masked = t.HasColumn("MASKED") ? t.GetLongs("MASKED") : new long[t.RowCount];
        for (var i = 0; i < t.RowCount; i++)
        {
            // FluxDn holds the table's DN/s here: only ratios of fluxes are scored.
            var source = new InjectedSource((int)index[i], x[i], y[i], ra[i], dec[i], mag[i], fluxIn[i]);
            yield return new Entry(kind[i].Trim(), new RecoveryRow(source, fluxIn[i], found[i] != 0, fluxOut[i], fluxErr[i], snr[i], sep[i]), masked[i] != 0);
        }
    }
}
