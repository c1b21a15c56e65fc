using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Simulation;

public class SurveyScheduleTests
{
    private static readonly SurveySpec Spec = new() { FieldCentres = [(150, 2), (151, 2.5)], Size = 256, Epochs = 8 };

    [Fact]
    public void Every_field_filter_and_epoch_gets_one_exposure_with_its_own_start_time()
    {
        var plans = SurveySchedule.Plan(Spec);
        Assert.Equal(2 * 2 * 8, plans.Count);
        Assert.Equal(plans.Count, plans.Select(p => p.DateObsUtc).Distinct().Count());
        Assert.Equal(plans.OrderBy(p => p.DateObsUtc).Select(p => p.Pointing), plans.Select(p => p.Pointing));
    }

    [Fact]
    public void Epochs_are_one_night_apart_at_about_three_utc()
    {
        foreach (var p in SurveySchedule.Plan(Spec))
        {
            Assert.Equal(new DateOnly(2028, 9, 1).AddDays(p.Epoch), DateOnly.FromDateTime(p.DateObsUtc));
            Assert.Equal(3, p.DateObsUtc.Hour);
            Assert.Equal(DateTimeKind.Utc, p.DateObsUtc.Kind);
        }
    }

    [Fact]
    public void Mjd_matches_the_start_time()
    {
        var p = SurveySchedule.Plan(Spec)[0];
        // MJD 62015 is 2028-09-01 00:00 UTC.
        Assert.Equal(62015 + (p.DateObsUtc - new DateTime(2028, 9, 1, 0, 0, 0, DateTimeKind.Utc)).TotalDays, p.MjdObs, 9);
    }

    [Fact]
    public void Dithers_and_rolls_stay_within_the_limits()
    {
        var scaleDeg = 0.11 / 3600;
        foreach (var p in SurveySchedule.Plan(Spec))
        {
            var (ra0, dec0) = Spec.FieldCentres[p.FieldIndex];
            var (xi, eta) = SimulatedWcs.Project(ra0, dec0, p.CentreRaDeg, p.CentreDecDeg);
            Assert.InRange(Math.Abs(xi * 180 / Math.PI / scaleDeg), 0, 40.001);
            Assert.InRange(Math.Abs(eta * 180 / Math.PI / scaleDeg), 0, 40.001);
            var roll = p.PaDeg - SurveySchedule.BasePositionAngle(Spec, p.FieldIndex);
            roll = (roll + 540) % 360 - 180;
            Assert.InRange(Math.Abs(roll), 0, 0.3001);
        }
        Assert.True(SurveySchedule.Plan(Spec).Select(p => p.CentreRaDeg).Distinct().Count() > 2);
    }
}
