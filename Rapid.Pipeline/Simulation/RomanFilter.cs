namespace Rapid.Pipeline.Simulation;

/// <summary>
/// The photometric properties of one Roman WFI imaging filter, as the simulator uses them.
/// Effective wavelengths, AB zero points (magnitude giving 1 e-/s) and minimum-zodiacal sky rates are
/// rounded from the Roman WFI "Table of Properties for Imaging Elements"
/// (roman-docs.stsci.edu, WFI Optical Elements); the sky is scaled ×1.5 above the minimum zodiacal
/// level, a typical high-latitude value. Names follow the OpenUniverse files (H158, F184, ...),
/// with the Fnnn alias accepted.
/// </summary>
public sealed record RomanFilter(string Name, string Alias, double EffectiveWavelengthMicron,
    double ZeroPointAbOneElectronPerSecond, double SkyElectronsPerSecondPerPixel)
{
    public static readonly IReadOnlyList<RomanFilter> All =
    [
        new("R062", "F062", 0.620, 26.56, 0.38),
        new("Z087", "F087", 0.869, 26.30, 0.38),
        new("Y106", "F106", 1.060, 26.44, 0.40),
        new("J129", "F129", 1.293, 26.40, 0.36),
        new("H158", "F158", 1.577, 26.43, 0.36),
        new("F184", "F184", 1.842, 25.95, 0.23),
        new("K213", "F213", 2.125, 25.70, 0.20),
        new("W146", "F146", 1.464, 27.65, 1.10),
    ];

    /// <summary>The filter of that name (either the OpenUniverse name or the Fnnn alias), case-insensitive.</summary>
    public static RomanFilter Named(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)
                             || string.Equals(f.Alias, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"filter '{name}' is not a Roman WFI imaging filter (known: {string.Join(", ", All.Select(f => f.Name))})");

    /// <summary>
    /// ZPTMAG as the OpenUniverse headers use it: AB magnitude = ZPTMAG − 2.5 log10(DN/s),
    /// i.e. the 1 e-/s zero point shifted by the gain (e-/DN).
    /// </summary>
    public double ZeroPointMagnitudeForDnPerSecond(double gainElectronsPerDn) =>
        ZeroPointAbOneElectronPerSecond - 2.5 * Math.Log10(gainElectronsPerDn);
}
