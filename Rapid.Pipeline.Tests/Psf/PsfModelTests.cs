using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Tests.Psf.Support;

namespace Rapid.Pipeline.Tests.Psf;

public class PsfModelTests
{
    [Fact]
    public void Normalises_the_stamp_to_unit_sum()
    {
        var psf = PsfModel.Gaussian(2.5, 21);
        double sum = 0;
        foreach (var v in psf.Stamp) sum += v;
        Assert.Equal(1, sum, 12);
        Assert.Equal(PsfMethod.Given, psf.Method);
    }

    [Fact]
    public void Embeds_the_centre_at_the_origin_with_wrapped_negative_offsets()
    {
        var stamp = new double[9];
        stamp[4] = 5; // centre
        stamp[3] = 2; // (x - 1, y)
        stamp[1] = 1; // (x, y - 1)
        var psf = new PsfModel(stamp, 3, 1, PsfMethod.Given, 0);

        var embedded = psf.EmbedCentred(8, 6);

        Assert.Equal(0.625, embedded[0]);
        Assert.Equal(0.25, embedded[7]);      // x = -1 wraps to 7 on row 0
        Assert.Equal(0.125, embedded[5 * 8]); // y = -1 wraps to row 5
        Assert.Equal(1, embedded.Sum(), 12);
    }

    [Fact]
    public void Recentres_an_off_centre_stamp()
    {
        // A Gaussian whose centre sits at (13.4, 11.7) of an even 26 x 24 stamp.
        var profile = new Profile(3.0);
        var (w, h) = (26, 24);
        var stamp = new float[w * h];
        for (var y = 0; y < h; y++) for (var x = 0; x < w; x++) stamp[y * w + x] = (float)profile.At(x - 13.4, y - 11.7);

        var psf = PsfModel.FromStamp(stamp, w, h, outputSize: 25);

        var (cx, cy) = Centroid(psf);
        Assert.InRange(cx, psf.Centre - 0.02, psf.Centre + 0.02);
        Assert.InRange(cy, psf.Centre - 0.02, psf.Centre + 0.02);
        Assert.InRange(psf.FwhmPixels, 2.9, 3.1);
        var truth = profile.Model(25);
        for (var i = 0; i < 25 * 25; i++) Assert.True(Math.Abs(psf.Stamp[i] - truth.Stamp[i]) < 0.002 * truth[12, 12], $"pixel {i}");
    }

    [Fact]
    public void Rejects_a_negative_stamp() =>
        Assert.Throws<ArgumentException>(() => new PsfModel(Enumerable.Repeat(-1.0, 9).ToArray(), 3, 1, PsfMethod.Given, 0));

    private static (double X, double Y) Centroid(PsfModel psf)
    {
        double sx = 0, sy = 0, s = 0;
        for (var y = 0; y < psf.Size; y++)
        {
            for (var x = 0; x < psf.Size; x++)
            {
                var v = psf[x, y];
                (s, sx, sy) = (s + v, sx + v * x, sy + v * y);
            }
        }
        return (sx / s, sy / s);
    }
}
