namespace Rapid.Pipeline.Simulation;

/// <summary>
/// One planned SCA image of an exposure: which field, filter, epoch and SCA, when (start of exposure, UTC), where the
/// observatory points (RA_TARG/DEC_TARG: the dithered field centre), where this SCA's image centre falls, and the
/// position angle of the image +y axis (degrees east of north). Pointing is a running exposure number in time order,
/// as in the OpenUniverse file names; all SCAs of one exposure share it and its start time.
/// </summary>
public sealed record ExposurePlan(
    int FieldIndex, int FilterIndex, RomanFilter Filter, int Epoch, int Pointing,
    DateTime DateObsUtc, double MjdObs, double CentreRaDeg, double CentreDecDeg, double PaDeg,
    int Sca = 1, double TargetRaDeg = double.NaN, double TargetDecDeg = double.NaN);

/// <summary>
/// The observing plan: epoch e of every field is observed on night FirstNight + e days from about 03:00 UTC,
/// fields and filters in sequence 180 s apart with up to 30 s of jitter (so every exposure has its own DATE-OBS);
/// each exposure is dithered by up to ±MaxDitherPixels on each axis and rolled by up to ±MaxRollChangeDeg
/// about the field's base position angle.
/// </summary>
public static class SurveySchedule
{
    public static readonly DateTime MjdZero = new(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc);
    private const double SlotSeconds = 180;

    public static double ToMjd(DateTime utc) => (utc - MjdZero).TotalDays;

    /// <summary>03:00 UTC of the night of an epoch, as an MJD (the nominal epoch time).</summary>
    public static double NominalEpochMjd(SurveySpec spec, int epoch) =>
        ToMjd(spec.FirstNight.ToDateTime(new TimeOnly(3, 0), DateTimeKind.Utc).AddDays(epoch));

    /// <summary>The base position angle of a field (degrees): fixed per field and seed.</summary>
    public static double BasePositionAngle(SurveySpec spec, int fieldIndex) =>
        SimulationRandom.For(spec.Seed, 11, fieldIndex).Uniform(0, 360);

    /// <summary>Every SCA image of every exposure, in time order (SCAs in the order given within an exposure).</summary>
    public static IReadOnlyList<ExposurePlan> Plan(SurveySpec spec)
    {
        var filters = spec.ResolvedFilters();
        var offsets = RomanFocalPlane.CentredOffsetsArcmin(spec.Scas);
        var plans = new List<ExposurePlan>();
        var pointing = 0;
        var nf = filters.Count;
        for (var epoch = 0; epoch < spec.Epochs; epoch++)
            for (var field = 0; field < spec.FieldCentres.Count; field++)
                for (var fi = 0; fi < nf; fi++)
                {
                    var rng = SimulationRandom.For(spec.Seed, 12, field, fi, epoch);
                    var slot = field * nf + fi;
                    var start = spec.FirstNight.ToDateTime(new TimeOnly(3, 0), DateTimeKind.Utc)
                        .AddDays(epoch).AddSeconds(slot * SlotSeconds + rng.Uniform(0, 30));
                    start = new DateTime(start.Ticks - start.Ticks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc);
                    var scaleDeg = spec.PixelScaleArcsec / 3600 * Math.PI / 180;
                    var (ra0, dec0) = spec.FieldCentres[field];
                    var (ra, dec) = SimulatedWcs.Deproject(ra0, dec0,
                        rng.Uniform(-spec.MaxDitherPixels, spec.MaxDitherPixels) * scaleDeg,
                        rng.Uniform(-spec.MaxDitherPixels, spec.MaxDitherPixels) * scaleDeg);
                    var pa = BasePositionAngle(spec, field) + rng.Uniform(-spec.MaxRollChangeDeg, spec.MaxRollChangeDeg);
                    pa = (pa % 360 + 360) % 360;
                    pointing++;
                    foreach (var sca in spec.Scas)
                    {
                        var (xi, eta) = RomanFocalPlane.ToStandard(offsets[sca].X, offsets[sca].Y, pa);
                        var (scaRa, scaDec) = SimulatedWcs.Deproject(ra, dec, xi, eta);
                        plans.Add(new ExposurePlan(field, fi, filters[fi], epoch, pointing, start, ToMjd(start), scaRa, scaDec, pa, sca, ra, dec));
                    }
                }
        return plans;
    }
}
