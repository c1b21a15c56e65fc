using System.Security.Cryptography;
using System.Text.Json;

namespace Rapid.Core.Contracts;

/// <summary>Tunable settings of the science pipeline; defaults follow the original system's ini.</summary>
public sealed record PipelineSettings
{
    public int MinReferenceInputs { get; set; } = 3;
    public int MaxReferenceInputs { get; set; } = 25;
    public double DetectionThresholdSigma { get; set; } = 5.0;
    public double CoaddClipSigma { get; set; } = 3.0;
    /// <summary>Difference pixels whose resampled reference coverage is below this many frames are masked (NaN), as in the original.</summary>
    public double MinReferenceCoverage { get; set; } = 0.5;
    /// <summary>Used when the image has no GAIN keyword (e-/DN).</summary>
    public double DefaultGain { get; set; } = 1.0;
    /// <summary>Used when the image has no RDNOISE keyword (DN).</summary>
    public double DefaultReadNoise { get; set; } = 8.5;
    public double DefaultSaturation { get; set; } = 100000;
    public int BackgroundMeshSize { get; set; } = 64;

    /// <summary>
    /// The first 16 hex digits of the SHA-256 of these settings' JSON (every field, in declaration order): equal settings
    /// have equal hashes whatever profile or options produced them, so products and job configs can be grouped by it.
    /// </summary>
    public string Hash() =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this, RapidJsonContext.Default.PipelineSettings)))[..16];
}
