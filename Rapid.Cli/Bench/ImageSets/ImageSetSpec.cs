using System.Text.Json.Serialization;

namespace Rapid.Cli.Bench.ImageSets;

/// <summary>
/// What an independent image set is made of: which tool renders it and the scene's and frames' parameters (the
/// rendering script's defaults hold for the rest). Lengths in pixels, angles in degrees.
/// </summary>
public sealed record ImageSetSpec
{
    /// <summary>One of <see cref="ImageSetRenderers.All"/>.</summary>
    public required string Renderer { get; init; }
    public int Seed { get; init; } = 1;
    public int Size { get; init; } = 512;
    public int References { get; init; } = 4;
    public double ScienceFwhm { get; init; } = 1.3;
    public double ReferenceFwhm { get; init; } = 1.6;
    /// <summary>SIP order (2-5; below 2: a plain TAN WCS).</summary>
    public int SipOrder { get; init; } = 4;
    /// <summary>The largest SIP offset over the chip (pixels).</summary>
    public double DistortionPx { get; init; } = 100;
    /// <summary>CRPIX relative to the chip centre: the default puts it far off the chip, as a focal-plane WCS does.</summary>
    public double[] CrpixOffset { get; init; } = [-2600, 3400];
    /// <summary>How far each reference frame is dithered from the science frame, in a random direction.</summary>
    public double DitherPx { get; init; } = 30;
    public double ScienceRotationDeg { get; init; } = 0.4;
    /// <summary>The reference frames' rolls in turn (null: the script's, up to 2.1 degrees).</summary>
    public double[]? RotationsDeg { get; init; }
    public int Transients { get; init; } = 150;
    /// <summary>
    /// More transients where fewer than all reference frames cover the science image (for flag tests: the truth's ideal
    /// noise assumes every frame, so these understate it).
    /// </summary>
    public int TransientsInThinCoverage { get; init; }
    public int Variables { get; init; } = 12;
    public int SaturatedStars { get; init; } = 3;
    public double StarsPerMpx { get; init; } = 160;
    /// <summary>
    /// standard: primary HDU, float, MJD-OBS, GAIN, RDNOISE, SATURATE; extension: the same in a SCI extension;
    /// survey: primary HDU, BITPIX 32, DATE-OBS with TIMESYS and OBSMJD (no MJD-OBS), EGAIN, READNOI, SATURVAL.
    /// </summary>
    public string HeaderStyle { get; init; } = "standard";
}

/// <summary>The renderers of independent image sets, each from a Debian package.</summary>
public static class ImageSetRenderers
{
    public const string Fitsh = "fitsh";
    public const string Gnuastro = "gnuastro";
    public const string Photutils = "photutils";
    public static readonly string[] All = [Fitsh, Gnuastro, Photutils];

    /// <summary>The Debian package that brings a renderer.</summary>
    public static string PackageOf(string renderer) => renderer switch
    {
        Fitsh => "fitsh",
        Gnuastro => "gnuastro",
        Photutils => "python3-photutils",
        _ => throw new ArgumentException($"no renderer named {renderer} (renderers: {string.Join(", ", All)})"),
    };
}

/// <summary>imageset.json: what a set holds (file names relative to its directory) and the truth's noise and calibration.</summary>
public sealed record ImageSetManifest
{
    public int Schema { get; init; } = 1;
    public required string Renderer { get; init; }
    public required string Science { get; init; }
    public required IReadOnlyList<string> References { get; init; }
    public required string Truth { get; init; }
    public required string ScienceStamps { get; init; }
    public required string ReferenceStamps { get; init; }
    public required string Coverage { get; init; }
    /// <summary>Per-pixel 1-sigma of the science image's background (DN/s).</summary>
    public double ScienceNoise { get; init; }
    /// <summary>Per-pixel 1-sigma of the reference frames' background combined (DN/s).</summary>
    public double ReferenceNoise { get; init; }
    /// <summary>Electrons per DN/s of the science exposure (gain x exposure time), for a source's own Poisson noise.</summary>
    public double ScienceElectronsPerRate { get; init; }
    /// <summary>The same for the reference frames together (gain x exposure time x frames).</summary>
    public double ReferenceElectronsPerRate { get; init; }
    /// <summary>AB magnitude of 1 DN/s.</summary>
    public double ZeroPoint { get; init; }
    public double PixelScaleArcsec { get; init; } = 0.11;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ImageSetSpec))]
[JsonSerializable(typeof(ImageSetManifest))]
internal sealed partial class ImageSetJsonContext : JsonSerializerContext;
