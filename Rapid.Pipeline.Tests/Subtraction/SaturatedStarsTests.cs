using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;
using Rapid.Pipeline.Subtraction;

namespace Rapid.Pipeline.Tests.Subtraction;

public class SaturatedStarsTests
{
    private const int Size = 256;
    private const double Noise = 2;
    private const float Saturation = 5000;
    private static readonly MoffatPsf Truth = new(1.6);

    /// <summary>Stars of the given fluxes (pixel-integrated Moffat), clipped: pixels at or above the level are NaN and marked.</summary>
    private static (float[] Image, bool[] Saturated) Field(params (double X, double Y, double Flux)[] stars)
    {
        var image = new float[Size * Size];
        foreach (var (x, y, f) in stars) StampRenderer.AddPointSource(image, Size, Size, x, y, f, Truth);
        var saturated = new bool[image.Length];
        for (var i = 0; i < image.Length; i++)
            if (image[i] >= Saturation) (image[i], saturated[i]) = (float.NaN, true);
        return (image, saturated);
    }

    /// <summary>The truth as an ePSF.</summary>
    private static EffectivePsf Psf() => Support.MoffatEffectivePsf.Of(Truth.FwhmPixels);

    [Fact]
    public void A_brighter_star_is_masked_further_out_to_where_its_light_falls_to_the_wing_level()
    {
        var (image, saturated) = Field((60.3, 70.6, 2e5), (180.8, 150.2, 5e7));

        var stars = SaturatedStars.Measure(saturated, image, Size, Size, Psf(), Noise, wingSigma: 3, minRadius: 3, maxRadius: 100).OrderBy(s => s.Flux).ToList();

        Assert.Equal(2, stars.Count);
        Assert.InRange(stars[0].Flux / 2e5, 0.9, 1.1);
        Assert.InRange(stars[1].Flux / 5e7, 0.9, 1.1);
        Assert.True(stars[1].MaskRadius > 2 * stars[0].MaskRadius, $"mask radii {stars[0].MaskRadius:F1} and {stars[1].MaskRadius:F1} px");
        foreach (var (star, (x, y, f)) in stars.Zip(new[] { (60.3, 70.6, 2e5), (180.8, 150.2, 5e7) }))
        {
            // The true light per pixel at the mask's edge is about the wing level (3 sigma).
            var level = f * Truth.Density(star.MaskRadius * star.MaskRadius);
            Assert.InRange(level, 0.6 * 3 * Noise, 1.4 * 3 * Noise);
            Assert.InRange(star.X, x - 0.5, x + 0.5);
        }
        var mask = SaturatedStars.Mask(stars, saturated, Size, Size, 3, 0)!;
        Assert.True(mask[150 * Size + 181 + (int)stars[1].MaskRadius - 1]);
        Assert.False(mask[150 * Size + 181 + (int)stars[1].MaskRadius + 2]);
    }

    [Fact]
    public void A_bleed_trail_is_covered_by_the_least_growth_and_the_flag_zone_adds_its_margin()
    {
        var (image, saturated) = Field((100.2, 100.4, 1e6));
        for (var y = 80; y < 120; y++) saturated[y * Size + 100] = true; // a column bleeding along y

        var stars = SaturatedStars.Measure(saturated, image, Size, Size, Psf(), Noise, 3, 3, 100);
        var mask = SaturatedStars.Mask(stars, saturated, Size, Size, 3, 0)!;
        var flagged = SaturatedStars.Mask(stars, saturated, Size, Size, 3, 4)!;

        Assert.Single(stars);
        Assert.True(mask[77 * Size + 103] && mask[122 * Size + 97]);
        Assert.False(mask[76 * Size + 100]);
        Assert.True(flagged[73 * Size + 100]);
    }

    [Fact]
    public void A_mask_is_grown_over_the_references_hole_around_the_star_and_the_resampling_kernels_reach_beyond()
    {
        // The reference lost a disc of radius 6.2 px around the first star (saturated in its frames), and a far patch
        // that is no part of it; the second star's reference is whole.
        var reference = new float[Size * Size];
        for (var y = 0; y < Size; y++)
            for (var x = 0; x < Size; x++)
                if (Math.Pow(x - 60.3, 2) + Math.Pow(y - 70.6, 2) <= 6.2 * 6.2 || (x > 80 && x < 90 && y > 60 && y < 80)) reference[y * Size + x] = float.NaN;
        var stars = new List<SaturatedStar> { new(60.3, 70.6, 12, 2e5, 4.5), new(180.8, 150.2, 12, 2e5, 4.5) };

        var grown = SaturatedStars.CoveringReferenceHoles(stars, reference, Size, Size, reach: 3, maxRadius: 40);

        Assert.InRange(grown[0].MaskRadius, 6.2 + 3 - 0.8, 6.2 + 3);
        Assert.Equal(4.5, grown[1].MaskRadius);
        Assert.Equal(7.0, SaturatedStars.CoveringReferenceHoles(stars, reference, Size, Size, reach: 3, maxRadius: 7)[0].MaskRadius);
    }

    [Fact]
    public void Without_saturated_pixels_there_is_nothing_to_mask()
    {
        var (image, _) = Field((60.3, 70.6, 2e4));
        Assert.Empty(SaturatedStars.Measure(null, image, Size, Size, Psf(), Noise, 3, 3, 100));
        Assert.Empty(SaturatedStars.Measure(new bool[image.Length], image, Size, Size, Psf(), Noise, 3, 3, 100));
        Assert.Null(SaturatedStars.Mask([], null, Size, Size, 3, 0));
    }

    [Fact]
    public void Difference_imaging_masks_a_saturated_star_by_its_profile_when_it_has_the_science_effective_psf()
    {
        var pair = new Support.DifferencePair(new Support.DifferencePairSpec { Seed = 31, Size = 256, Stars = 60, StarRates = (2, 30000), ScienceFwhm = 1.6, ReferenceFwhm = 1.8 });
        var withPsf = DifferenceImaging.Run(pair.Input with { ScienceEffectivePsf = Psf() }, new DifferenceImagingOptions(), new SilentLog());
        var fixedMargin = DifferenceImaging.Run(pair.Input, new DifferenceImagingOptions(), new SilentLog());

        var brightest = withPsf.SaturatedStars.MaxBy(s => s.Flux)!;
        var core = Math.Sqrt(brightest.Pixels / Math.PI);
        Assert.True(brightest.MaskRadius > core + new DifferenceImagingOptions().SaturationMaskRadius + 2, $"mask radius {brightest.MaskRadius:F1} px, core {core:F1} px");
        Assert.Empty(fixedMargin.SaturatedStars);
        var inside = Enumerable.Range(0, Size * Size).Where(i => Math.Pow(i % Size - brightest.X, 2) + Math.Pow(i / Size - brightest.Y, 2) <= brightest.MaskRadius * brightest.MaskRadius).ToList();
        Assert.All(inside, i => Assert.True(float.IsNaN(withPsf.Difference[i])));
        Assert.Contains(inside, i => float.IsFinite(fixedMargin.Difference[i]));
    }
}
