using Rapid.Pipeline.Fft;

namespace Rapid.Pipeline.Tests.Fft;

public sealed class FftSizesTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(11, 12)]
    [InlineData(13, 14)]
    [InlineData(4088, 4096)]
    [InlineData(4097, 4116)]
    [InlineData(4096 + 4088 - 1, 8192)]
    public void NextFriendly_is_the_smallest_7_smooth_size_not_below_n(int n, int expected)
    {
        Assert.Equal(expected, FftSizes.NextFriendly(n));
        for (var m = n; m < expected; m++) Assert.False(FftSizes.IsFriendly(m));
    }

    [Fact]
    public void Non_positive_sizes_are_rejected() => Assert.Throws<ArgumentOutOfRangeException>(() => FftSizes.NextFriendly(0));
}
