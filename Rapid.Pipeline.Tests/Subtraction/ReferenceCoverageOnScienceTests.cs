using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Tests.Subtraction;

public class ReferenceCoverageOnScienceTests
{
    [Fact]
    public void Coverage_is_in_frames_so_a_tile_co_added_from_two_fields_keeps_the_pixels_one_field_covers()
    {
        // A 200 px tile: its left half holds 5 frames (one field), its right half 10 (two fields overlap there).
        const int Tile = 200, Science = 64;
        var tileWcs = TanSipWcs.NorthUp(150, 2, (Tile + 1) / 2.0, (Tile + 1) / 2.0, 0.11);
        var frames = new float[Tile * Tile];
        for (var y = 0; y < Tile; y++)
            for (var x = 0; x < Tile; x++)
                frames[y * Tile + x] = x < Tile / 2 ? 5 : 10;
        // The science image sits inside the 5-frame half, 20 px off a whole-pixel alignment by a third of a pixel.
        var scienceWcs = TanSipWcs.NorthUp(150, 2, (Science + 1) / 2.0 + 40.33, (Science + 1) / 2.0, 0.11);
        var taps = Enumerable.Repeat(1f, Science * Science).ToArray();

        var coverage = ReferenceCoverageOnScience.Frames(new FitsImage(Tile, Tile, frames, new FitsHeader()), tileWcs, Science, Science, scienceWcs, taps);

        Assert.All(coverage, c => Assert.Equal(5f, c));
    }

    [Fact]
    public void The_resampler_share_of_valid_taps_scales_the_frames_and_pixels_off_the_tile_get_none()
    {
        const int Size = 32;
        var wcs = TanSipWcs.NorthUp(150, 2, (Size + 1) / 2.0, (Size + 1) / 2.0, 0.11);
        var frames = Enumerable.Repeat(4f, Size * Size).ToArray();
        // The science grid is shifted by half its width: its right half lies off the tile.
        var shifted = TanSipWcs.NorthUp(150, 2, (Size + 1) / 2.0 - Size / 2.0, (Size + 1) / 2.0, 0.11);
        var taps = Enumerable.Repeat(0.5f, Size * Size).ToArray();

        var coverage = ReferenceCoverageOnScience.Frames(new FitsImage(Size, Size, frames, new FitsHeader()), wcs, Size, Size, shifted, taps);

        Assert.Equal(2f, coverage[5 * Size + 2]);
        Assert.Equal(0f, coverage[5 * Size + Size - 3]);
    }
}
