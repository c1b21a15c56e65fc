using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Tests.Support;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Jobs;

public class ReferenceImageJobTests
{
    private const int Size = 192;

    [Fact]
    public async Task Coadds_shifted_frames_recovering_stars_and_rejecting_a_cosmic_ray()
    {
        using var bed = new JobTestBed();
        var survey = new SyntheticSurvey(Size, starCount: 15, seed: 7);
        var inputs = new List<L2Image>();
        (double Dx, double Dy)[] shifts = [(0.5, 0.5), (-2.2, 1.3), (1.8, -2.6), (2.7, 2.1)];
        var frame1 = survey.Wcs(shifts[1].Dx, shifts[1].Dy);
        var cosmicRay = survey.FreePixel(frame1);
        for (var i = 0; i < shifts.Length; i++)
        {
            var path = Path.Combine(bed.Scratch, $"in{i}.fits");
            survey.WriteFrame(path, shifts[i].Dx, shifts[i].Dy, seed: i, mjd: 60000.5 + i, cosmicRay: i == 1 ? (cosmicRay.X, cosmicRay.Y, 50000f) : null);
            inputs.Add(new L2Image { Rid = 100 + i, Fid = 3, Filter = "F158", MjdObs = 60000.5 + i, File = await bed.UploadL2Async(path) });
        }
        var tile = new TileGrid { Field = 12, CenterRaDeg = SyntheticSurvey.RaDeg, CenterDecDeg = SyntheticSurvey.DecDeg, Naxis1 = Size, Naxis2 = Size, PixelScaleArcsec = SyntheticSurvey.PixelScaleArcsec };

        var run = await bed.RunAsync(new JobConfig { Jid = 301, ProcDate = bed.ProcDate.ToString(), Spec = new ReferenceImageSpec { Tile = tile, Inputs = inputs } });

        Assert.True(run.ExitCode == ExitCodes.Success, $"exit {run.ExitCode}: {run.Manifest?.Reason}");
        var result = Assert.IsType<ReferenceImageOutcome>(run.Manifest!.Outcome).Reference;
        Assert.Equal([100L, 101, 102, 103], result.InputRids);
        Assert.Equal(60000.5, result.MjdObsMin);
        Assert.Equal(60003.5, result.MjdObsMax);
        Assert.InRange(result.FwhmMedian, 2.3548 * SyntheticSurvey.PsfSigma * 0.9, 2.3548 * SyntheticSurvey.PsfSigma * 1.2);
        Assert.InRange(result.NSources, 15, 17);
        Assert.InRange(result.ClippedMean, SyntheticSurvey.SkyRate * 0.98, SyntheticSurvey.SkyRate * 1.02);
        var refPath = bed.PathOf(run.Manifest.Products.Single(p => p.Role == ProductRoles.ReferenceImage).File);
        var image = FitsFile.ReadImage(refPath);
        Assert.Equal(12, image.Header.GetLong("FIELD"));
        Assert.Equal(3, image.Header.GetLong("FID"));
        Assert.Equal("F158", image.Header.GetString("FILTER"));
        Assert.Equal(4, image.Header.GetLong("NFRAMES"));
        Assert.Equal("adu/s", image.Header.GetString("BUNIT"));
        Assert.NotNull(image.Header.GetDouble("COV5PERC"));
        var wcs = TanSipWcs.FromHeader(image.Header, refPath);
        foreach (var product in run.Manifest.Products) FitsVerify.AssertValid(bed.PathOf(product.File));

        // Stars: positions within 0.1 px and fluxes within 3 % of the truth.
        var variance = Squared(FitsFile.ReadImage(bed.PathOf(run.Manifest.Products.Single(p => p.Role == ProductRoles.ReferenceUncertainty).File)).Pixels);
        var subtracted = image.Pixels.Select(p => p - (float)SyntheticSurvey.SkyRate).ToArray();
        var stars = StarMeasurement.BrightStars(subtracted, variance, Size, Size, apertureRadius: 6);
        Assert.True(stars.Count >= 10, $"{stars.Count} stars measured");
        foreach (var star in stars)
        {
            var truth = survey.Stars.MinBy(s => Distance(wcs, s, star));
            Assert.True(Distance(wcs, truth!, star) < 0.1, $"star at ({star.X:F2}, {star.Y:F2}) is {Distance(wcs, truth!, star):F2} px from the truth");
            Assert.InRange(star.Flux / truth!.Rate, 0.97, 1.03);
        }

        // The cosmic ray (in frame 1 only) is gone from the co-add.
        var (ra, dec) = frame1.PixelToSky(cosmicRay.X + 1, cosmicRay.Y + 1);
        var (cx, cy) = wcs.SkyToPixel(ra, dec);
        for (var y = (int)Math.Round(cy) - 4; y <= (int)Math.Round(cy) + 2; y++)
            for (var x = (int)Math.Round(cx) - 4; x <= (int)Math.Round(cx) + 5; x++)
            {
                var sigma = MathF.Sqrt(variance[y * Size + x]);
                Assert.InRange(subtracted[y * Size + x], -5 * sigma, 5 * sigma);
            }
    }

    private static float[] Squared(float[] values) => values.Select(v => v * v).ToArray();

    private static double Distance(TanSipWcs wcs, SkyStar truth, MeasuredStar star)
    {
        var (x, y) = wcs.SkyToPixel(truth.RaDeg, truth.DecDeg);
        return Math.Sqrt(Math.Pow(x - 1 - star.X, 2) + Math.Pow(y - 1 - star.Y, 2));
    }
}
