using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Simulation;

/// <summary>
/// One simulated L2 image as written: the image file (empty primary HDU + SCI extension, float32 DN per exposure)
/// and its truth catalog, with the header values registration needs. Angles in degrees, DateObsUtc is the
/// exposure start (UTC), ZeroPointMag is ZPTMAG (AB mag = ZPTMAG − 2.5 log10(DN/s)). RaTarg/DecTarg are the
/// exposure's pointing (shared by its SCAs); Pointing numbers the exposure (its SCAs share it and DateObsUtc).
/// <see cref="Header"/> is the SCI extension header (WCS included; read it with TanSipWcs.FromHeader).
/// </summary>
public sealed record SimulatedImage(
    string Path, string TruthPath, string Filter, DateTime DateObsUtc, double MjdObs, double ExposureTimeSeconds,
    int Sca, double RaTargDeg, double DecTargDeg, double PaObsyDeg, double ZeroPointMag,
    int FieldIndex, int Epoch, int Pointing, int Width, int Height, FitsHeader Header);

/// <summary>
/// A written survey: its images in time order, the survey truth (every object of every field, one row each)
/// and the light-curve table (per-exposure flux of every transient and variable on an image).
/// </summary>
public sealed record SimulatedSurvey(SurveySpec Spec, string Directory, IReadOnlyList<SimulatedImage> Images,
    string ObjectsTruthPath, string LightCurvesPath);
