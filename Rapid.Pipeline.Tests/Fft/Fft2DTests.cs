using System.Numerics;
using Rapid.Pipeline.Fft;

namespace Rapid.Pipeline.Tests.Fft;

public sealed class Fft2DTests
{
    private static double[] RandomImage(int w, int h, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, w * h).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
    }

    /// <summary>The textbook DFT, F(kx, ky) = sum f(x, y) exp(-2 pi i (kx x / W + ky y / H)).</summary>
    private static Complex NaiveDft(double[] f, int w, int h, int kx, int ky)
    {
        var sum = Complex.Zero;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                sum += f[y * w + x] * Complex.Exp(new Complex(0, -2 * Math.PI * ((double)kx * x / w + (double)ky * y / h)));
        return sum;
    }

    [Theory]
    [InlineData(6, 5)]
    [InlineData(7, 4)]
    [InlineData(16, 9)]
    public void Forward_matches_a_naive_DFT(int w, int h)
    {
        var f = RandomImage(w, h, w * 100 + h);
        using var fft = new Fft2D(w, h);
        var spectrum = new float[fft.SpectrumLength];
        fft.Forward(f.Select(v => (float)v).ToArray(), spectrum);

        for (var ky = 0; ky < h; ky++)
            for (var kx = 0; kx < fft.SpectrumWidth; kx++)
            {
                var expected = NaiveDft(f, w, h, kx, ky);
                var i = 2 * (ky * fft.SpectrumWidth + kx);
                Assert.Equal(expected.Real, spectrum[i], 1e-4);
                Assert.Equal(expected.Imaginary, spectrum[i + 1], 1e-4);
            }
    }

    [Theory]
    [InlineData(6, 5)]
    [InlineData(9, 8)]
    public void Inverse_of_forward_returns_the_image(int w, int h)
    {
        var f = RandomImage(w, h, 3).Select(v => (float)v).ToArray();
        using var fft = new Fft2D(w, h);
        var spectrum = new float[fft.SpectrumLength];
        var back = new float[f.Length];
        fft.Forward(f, spectrum);
        var copy = spectrum.ToArray();
        fft.Inverse(spectrum, back);

        Assert.Equal(copy, spectrum); // the caller's spectrum survives c2r
        for (var i = 0; i < f.Length; i++) Assert.Equal(f[i], back[i], 1e-5);
    }

    [Fact]
    public void Inverse_of_a_single_frequency_is_a_cosine_over_N()
    {
        const int w = 8, h = 6;
        using var fft = new Fft2D(w, h);
        var spectrum = new float[fft.SpectrumLength];
        spectrum[2 * (1 * fft.SpectrumWidth + 2)] = 48; // F(kx=2, ky=1) = 48, all else 0 (its Hermitian twin is implicit)
        var image = new float[w * h];
        fft.Inverse(spectrum, image);

        // f(x, y) = (1/N) * 2 Re(48 exp(2 pi i (2x/8 + y/6))) with N = 48.
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                Assert.Equal(2 * Math.Cos(2 * Math.PI * (2.0 * x / w + 1.0 * y / h)), image[y * w + x], 1e-5);
    }

    [Fact]
    public void Double_precision_matches_a_naive_DFT_to_1e_10()
    {
        const int w = 10, h = 7;
        var f = RandomImage(w, h, 11);
        using var fft = new Fft2DDouble(w, h);
        var spectrum = new double[fft.SpectrumLength];
        fft.Forward(f, spectrum);
        for (var ky = 0; ky < h; ky++)
            for (var kx = 0; kx < fft.SpectrumWidth; kx++)
            {
                var expected = NaiveDft(f, w, h, kx, ky);
                var i = 2 * (ky * fft.SpectrumWidth + kx);
                Assert.Equal(expected.Real, spectrum[i], 1e-10);
                Assert.Equal(expected.Imaginary, spectrum[i + 1], 1e-10);
            }
        var back = new double[f.Length];
        fft.Inverse(spectrum, back);
        for (var i = 0; i < f.Length; i++) Assert.Equal(f[i], back[i], 1e-12);
    }

    [Fact]
    public void Transforms_of_many_sizes_run_in_parallel()
    {
        var failures = 0;
        Parallel.For(0, 16, i =>
        {
            var (w, h) = (12 + i % 5, 10 + i % 3);
            var f = RandomImage(w, h, i).Select(v => (float)v).ToArray();
            using var fft = new Fft2D(w, h);
            var s = new float[fft.SpectrumLength];
            var back = new float[f.Length];
            fft.Forward(f, s);
            fft.Inverse(s, back);
            if (f.Zip(back).Any(p => Math.Abs(p.First - p.Second) > 1e-5)) Interlocked.Increment(ref failures);
        });
        Assert.Equal(0, failures);
    }

    [Theory]
    [InlineData(60, 48, 3)]
    [InlineData(61, 50, 7)]
    [InlineData(64, 64, 31)]
    public void A_compact_kernel_transforms_as_the_full_transform_does(int w, int h, int reach)
    {
        using var fft = new Fft2D(w, h);
        using var image = new FftwBuffer(fft.RealLength);
        using var full = new FftwBuffer(fft.SpectrumLength);
        using var compact = new FftwBuffer(fft.SpectrumLength);
        var random = new Random(3);
        image.Span.Clear();
        for (var dy = -reach; dy <= reach; dy++)
            for (var x = 0; x < w; x++) image.Span[(dy + h) % h * w + x] = (float)random.NextDouble();
        compact.Span.Fill(float.NaN);
        fft.Forward(image, full);
        fft.ForwardCompact(image, reach, compact);
        for (var k = 0; k < full.Length; k++) Assert.Equal(full.Span[k], compact.Span[k], 1e-3);
    }

    [Fact]
    public void Wrong_buffer_sizes_are_rejected()
    {
        using var fft = new Fft2D(8, 4);
        Assert.Equal(5, fft.SpectrumWidth);
        Assert.Throws<ArgumentException>(() => fft.Forward(new float[31], new float[40]));
        Assert.Throws<ArgumentException>(() => fft.Forward(new float[32], new float[32]));
    }

    [Fact]
    public void A_missing_library_names_the_Debian_package()
    {
        var e = Assert.Throws<FftwUnavailableException>(() => FftwPlans.RequireLibrary("libfftw3f-not-here.so.3", "libfftw3-single3"));
        Assert.Contains("libfftw3f-not-here.so.3", e.Message);
        Assert.Contains("install Debian package libfftw3-single3", e.Message);
    }
}
