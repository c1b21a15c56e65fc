using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Imaging;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Imaging;

public class ImageCalibrationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rapid-calibration-").FullName;

    private string Write(float[] pixels, Action<FitsHeader> keywords)
    {
        var header = new FitsHeader();
        TanSipWcs.NorthUp(10, 20, 2, 2, 0.11).WriteTo(header);
        header.Set("MJD-OBS", 61650.25);
        keywords(header);
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.fits");
        FitsFile.WriteImage(path, new FitsImage(2, 2, pixels, header));
        return path;
    }

    [Fact]
    public void Converts_dn_to_rate_with_shot_and_read_noise_and_masks_saturation()
    {
        var path = Write([400, 0, 100, 70000], h => { h.Set("EXPTIME", 100.0); h.Set("GAIN", 4.0); h.Set("RDNOISE", 3.0); h.Set("SATURATE", 60000.0); });

        var image = ImageCalibration.Load(path, "s3://b/x.fits", new PipelineSettings());

        Assert.Equal(4f, image.Rate[0], 5);
        Assert.Equal((400 / 4.0 + 9) / 1e4, image.Variance[0], 6);
        Assert.Equal(9 / 1e4, image.Variance[1], 6);
        Assert.True(float.IsNaN(image.Rate[3]));
        Assert.Equal(1, image.SaturatedPixels);
        Assert.Equal("adu/s", image.Header.GetString("BUNIT"));
    }

    [Fact]
    public void Scales_to_a_target_zero_point()
    {
        var path = Write([100, 100, 100, 100], h => { h.Set("EXPTIME", 10.0); h.Set("ZPTMAG", 19.5); });

        var image = ImageCalibration.Load(path, "x", new PipelineSettings(), ImageCalibration.ReferenceZeroPointMag);

        Assert.Equal(10 * Math.Pow(10, 0.4 * (17 - 19.5)), image.Rate[0], 4);
        Assert.Equal(17, image.ZeroPointMag);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0.0)]
    public void Rejects_a_missing_or_zero_exptime_naming_the_file(double? expTime)
    {
        var path = Write([1, 2, 3, 4], h => { if (expTime is double t) h.Set("EXPTIME", t); });

        var error = Assert.Throws<InvalidImageException>(() => ImageCalibration.Load(path, "s3://rapid-l2-files/a.fits", new PipelineSettings()));

        Assert.StartsWith("s3://rapid-l2-files/a.fits: EXPTIME is", error.Message);
    }

    [Fact]
    public void Rejects_a_file_that_is_not_fits()
    {
        var path = Path.Combine(_dir, "junk.fits");
        File.WriteAllText(path, "hello");

        var error = Assert.Throws<InvalidImageException>(() => ImageCalibration.Load(path, "s3://rapid-l2-files/junk.fits", new PipelineSettings()));

        Assert.StartsWith("s3://rapid-l2-files/junk.fits: ", error.Message);
    }

    [Fact]
    public void Reads_a_survey_header_with_date_obs_saturval_readnoi_and_egain()
    {
        var path = Write([400, 0, 100, 50000], h =>
        {
            h.Remove("MJD-OBS");
            h.Set("EXPTIME", 100.0); h.Set("DATE-OBS", "2028-09-07T06:00:00"); h.Set("TIMESYS", "UTC"); h.Set("OBSMJD", 62021.25);
            h.Set("EGAIN", 4.0); h.Set("READNOI", 3.0); h.Set("SATURVAL", 40000.0);
        });

        var image = ImageCalibration.Load(path, "s3://b/x.fits", new PipelineSettings());

        Assert.Equal(62021.25, image.MjdObs, 9);
        Assert.Equal(62021.25, image.Header.GetDouble("MJD-OBS")!.Value, 9);
        Assert.Equal((400 / 4.0 + 9) / 1e4, image.Variance[0], 6);
        Assert.True(float.IsNaN(image.Rate[3]));
    }

    [Theory]
    [InlineData("GAIN", "-1", "s3://b/x.fits: GAIN = -1 is not usable")]
    [InlineData("SATURVAL", "'none'", "s3://b/x.fits: SATURVAL = 'none' is not a number")]
    [InlineData("MJD-OBS", null, "s3://b/x.fits: MJD-OBS is missing, and so are DATE-OBS")]
    public void Rejects_an_unusable_calibration_or_time_keyword_naming_it(string key, string? raw, string message)
    {
        var path = Write([1, 2, 3, 4], h =>
        {
            h.Set("EXPTIME", 10.0);
            h.Remove(key);
            if (raw is not null) h.SetRaw(key, raw, null);
        });

        var error = Assert.Throws<InvalidImageException>(() => ImageCalibration.Load(path, "s3://b/x.fits", new PipelineSettings()));

        Assert.StartsWith(message, error.Message);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
