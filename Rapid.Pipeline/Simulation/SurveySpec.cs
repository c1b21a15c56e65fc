namespace Rapid.Pipeline.Simulation;

/// <summary>
/// What to simulate: a Roman-like time-domain survey of one SCA-sized image per
/// (field, filter, epoch). Units: degrees for sky positions, arcsec for the pixel scale,
/// seconds for exposure times, DN (data numbers per exposure) for fluxes and levels,
/// electrons for the read noise. Defaults follow the OpenUniverse "lite" files
/// (4088×4088, 0.11"/px, 139.8 s exposures).
/// </summary>
public sealed record SurveySpec
{
    /// <summary>Sky-tile centres (RA, Dec in degrees); one field per centre.</summary>
    public required IReadOnlyList<(double RaDeg, double DecDeg)> FieldCentres { get; init; }

    /// <summary>Filter names (OpenUniverse names such as H158, or Fnnn aliases).</summary>
    public IReadOnlyList<string> Filters { get; init; } = ["F184", "H158"];

    /// <summary>Epochs per (field, filter), one per night.</summary>
    public int Epochs { get; init; } = 8;

    /// <summary>Image width and height in pixels (square images).</summary>
    public int Size { get; init; } = 4088;

    public int TransientsPerField { get; init; } = 4;
    public int VariablesPerField { get; init; } = 3;

    /// <summary>Transients are exactly zero in the first this-many epochs, so references co-added from them are clean.</summary>
    public int TransientQuietEpochs { get; init; } = 4;

    public int Seed { get; init; } = 1;

    /// <summary>The first night (UTC date); epoch e is observed at about 03:00 UTC on FirstNight + e days.</summary>
    public DateOnly FirstNight { get; init; } = new(2028, 9, 1);

    public double ExposureTimeSeconds { get; init; } = 139.8;
    public double PixelScaleArcsec { get; init; } = 0.11;
    public double GainElectronsPerDn { get; init; } = 1.8;
    public double ReadNoiseElectrons { get; init; } = 8.0;

    /// <summary>Clipping level in DN (one of the original pipeline's configured saturation levels).</summary>
    public double SaturationDn { get; init; } = 100_000;

    /// <summary>
    /// The SCAs read out in every exposure (SCA_NUM; RomanFocalPlane places them), centred together on the field centre.
    /// Each image is the central Size×Size part of its SCA. Default: SCA 1 alone.
    /// </summary>
    public IReadOnlyList<int> Scas { get; init; } = [1];

    /// <summary>Write RA---TAN-SIP with 3rd/4th-order distortion; false writes plain RA---TAN.</summary>
    public bool SipDistortion { get; init; } = true;

    /// <summary>Fractional PSF FWHM growth from the SCA centre to its corner (0 = constant PSF).</summary>
    public double PsfVariationAcrossSca { get; init; } = 0.04;

    /// <summary>Largest dither offset in pixels (each axis), and largest roll change in degrees.</summary>
    public double MaxDitherPixels { get; init; } = 40;
    public double MaxRollChangeDeg { get; init; } = 0.3;

    /// <summary>Source densities per square arcminute and magnitude ranges (AB, in the first filter of the list; other filters differ by a colour).</summary>
    public double StarsPerSquareArcmin { get; init; } = 12;
    public double GalaxiesPerSquareArcmin { get; init; } = 20;
    public (double Bright, double Faint) StarMagnitudes { get; init; } = (17.0, 26.0);
    public (double Bright, double Faint) GalaxyMagnitudes { get; init; } = (19.0, 25.5);
    public (double Bright, double Faint) TransientPeakMagnitudes { get; init; } = (20.5, 23.0);

    /// <summary>Cosmic-ray hits (new in every exposure) and bad pixels (half hot, half NaN; fixed on the SCA) per million pixels.</summary>
    public double CosmicRaysPerMegapixel { get; init; } = 15;
    public double BadPixelsPerMegapixel { get; init; } = 100;

    /// <summary>False renders the expected DN only: no Poisson or read noise, cosmic rays or bad pixels (tests).</summary>
    public bool AddNoise { get; init; } = true;

    /// <summary>
    /// The small survey of `rapid demo` (issue 2): the given field centres, F184 and H158, 8 epochs,
    /// 1024×1024 images with TAN-SIP WCS, 3 transients and 2 variables per field.
    /// </summary>
    public static SurveySpec Demo(IReadOnlyList<(double RaDeg, double DecDeg)> fieldCentres, int seed = 1) => new()
    {
        FieldCentres = fieldCentres, Size = 1024, Epochs = 8, TransientsPerField = 3, VariablesPerField = 2, Seed = seed,
    };

    /// <summary>Throws ArgumentException naming the first invalid setting.</summary>
    public void Validate()
    {
        if (FieldCentres is null || FieldCentres.Count == 0) throw new ArgumentException("survey spec: FieldCentres is empty; give at least one (RA, Dec) field centre");
        foreach (var (ra, dec) in FieldCentres)
            if (!(ra >= 0 && ra < 360) || !(dec >= -90 && dec <= 90))
                throw new ArgumentException($"survey spec: field centre ({ra}, {dec}) is not RA in [0, 360) and Dec in [-90, 90] degrees");
        if (Filters is null || Filters.Count == 0) throw new ArgumentException("survey spec: Filters is empty");
        foreach (var f in Filters) RomanFilter.Named(f);
        if (Filters.Select(f => RomanFilter.Named(f).Name).Distinct().Count() != Filters.Count) throw new ArgumentException("survey spec: Filters names a filter twice");
        if (Epochs < 1 || Epochs > 10_000) throw new ArgumentException($"survey spec: Epochs = {Epochs}; must be 1..10000");
        if (Size < 64 || Size > 8192) throw new ArgumentException($"survey spec: Size = {Size}; must be 64..8192 pixels");
        if (TransientsPerField < 0 || VariablesPerField < 0) throw new ArgumentException("survey spec: TransientsPerField and VariablesPerField must not be negative");
        if (TransientsPerField > 0 && Epochs < TransientQuietEpochs + 2)
            throw new ArgumentException($"survey spec: transients need Epochs >= TransientQuietEpochs + 2 ({TransientQuietEpochs + 2}); got {Epochs}");
        if (TransientQuietEpochs < 0) throw new ArgumentException("survey spec: TransientQuietEpochs must not be negative");
        if (!(ExposureTimeSeconds > 0)) throw new ArgumentException($"survey spec: ExposureTimeSeconds = {ExposureTimeSeconds}; must be > 0");
        if (!(PixelScaleArcsec > 0)) throw new ArgumentException($"survey spec: PixelScaleArcsec = {PixelScaleArcsec}; must be > 0");
        if (!(GainElectronsPerDn > 0)) throw new ArgumentException($"survey spec: GainElectronsPerDn = {GainElectronsPerDn}; must be > 0");
        if (!(ReadNoiseElectrons >= 0)) throw new ArgumentException($"survey spec: ReadNoiseElectrons = {ReadNoiseElectrons}; must be >= 0");
        if (!(SaturationDn > 0)) throw new ArgumentException($"survey spec: SaturationDn = {SaturationDn}; must be > 0");
        if (Scas is null || Scas.Count == 0 || Scas.Any(s => s < 1 || s > RomanFocalPlane.ScaCount) || Scas.Distinct().Count() != Scas.Count)
            throw new ArgumentException($"survey spec: Scas = [{string.Join(",", Scas ?? [])}]; give distinct Roman SCAs 1..{RomanFocalPlane.ScaCount}");
        if (!(MaxDitherPixels >= 0) || !(MaxRollChangeDeg >= 0)) throw new ArgumentException("survey spec: MaxDitherPixels and MaxRollChangeDeg must not be negative");
        if (!(StarsPerSquareArcmin >= 0) || !(GalaxiesPerSquareArcmin >= 0)) throw new ArgumentException("survey spec: source densities must not be negative");
        if (!(StarMagnitudes.Bright < StarMagnitudes.Faint) || !(GalaxyMagnitudes.Bright < GalaxyMagnitudes.Faint)
            || !(TransientPeakMagnitudes.Bright < TransientPeakMagnitudes.Faint))
            throw new ArgumentException("survey spec: a magnitude range has Bright >= Faint");
    }

    /// <summary>The filters, resolved.</summary>
    public IReadOnlyList<RomanFilter> ResolvedFilters() => Filters.Select(RomanFilter.Named).ToList();
}
