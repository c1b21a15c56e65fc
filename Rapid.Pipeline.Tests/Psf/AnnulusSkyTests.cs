using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Tests.Psf.Support;

namespace Rapid.Pipeline.Tests.Psf;

public class AnnulusSkyTests
{
    /// <summary>An annulus of 200 pixels: sky 10, unit noise, and with a neighbour's light falling from 3 σ to 0.05 σ over 40 % of it.</summary>
    private static double[] Annulus(Random random, bool neighbour) =>
        Enumerable.Range(0, 200).Select(k => 10 + StarField.Gaussian(random) + (neighbour && k < 80 ? 3 * Math.Exp(-k / 20.0) : 0)).ToArray();

    [Fact]
    public void Annuli_of_noise_alone_are_not_crowded_and_their_median_is_the_sky()
    {
        var random = new Random(1);
        var annuli = Enumerable.Range(0, 60).Select(_ => AnnulusSky.Estimate(Annulus(random, false))).ToList();

        Assert.False(AnnulusSky.IsCrowded(annuli));
        Assert.InRange(annuli.Average(a => a.Median), 9.97, 10.03);
    }

    // Neighbours' light in half of the annuli, mostly below the clipping: the medians count part of it as sky, the modes
    // less of it (here 0.09 against 0.12 σ), and the field is crowded.
    [Fact]
    public void Annuli_skewed_by_neighbours_are_crowded_and_their_mode_is_nearer_the_sky()
    {
        var random = new Random(2);
        var annuli = Enumerable.Range(0, 100).Select(k => AnnulusSky.Estimate(Annulus(random, k % 2 == 0))).ToList();

        var (median, mode) = (annuli.Average(a => a.Median) - 10, annuli.Average(a => a.Mode) - 10);
        Assert.True(AnnulusSky.IsCrowded(annuli), $"not crowded: mode {mode:F3} σ, median {median:F3} σ above the sky");
        Assert.True(mode < 0.85 * median, $"mode {mode:F3} σ, median {median:F3} σ above the sky");
    }

    [Fact]
    public void Fewer_than_five_annuli_never_make_a_crowded_field()
    {
        var random = new Random(3);
        Assert.False(AnnulusSky.IsCrowded(Enumerable.Range(0, 4).Select(_ => AnnulusSky.Estimate(Annulus(random, true))).ToList()));
    }
}
