namespace Rapid.Pipeline.Resampling;

/// <summary>
/// A resampled image on the destination grid (row-major, 0-based (x, y), index = y * Width + x).
/// Coverage is the fraction of the kernel weight that fell on valid input (1 inside, 0 outside/NaN, fractional at edges);
/// pixels without coverage are NaN. Variance is present when an input variance was given.
/// </summary>
public sealed record ResampledImage(int Width, int Height, float[] Pixels, float[] Coverage, float[]? Variance);
