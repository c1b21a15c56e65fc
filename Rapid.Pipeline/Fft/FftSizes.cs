namespace Rapid.Pipeline.Fft;

/// <summary>Transform sizes that FFTW handles fastest: products of small primes (FFTW manual, section 4.3.3).</summary>
public static class FftSizes
{
    /// <summary>The smallest 2^a 3^b 5^c 7^d that is at least n (e.g. 4088 -> 4096, 4097 -> 4116).</summary>
    public static int NextFriendly(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        for (var m = n; m > 0; m++)
        {
            if (IsFriendly(m)) return m;
        }
        throw new ArgumentOutOfRangeException(nameof(n), $"no 7-smooth size at least {n} fits in an int");
    }

    /// <summary>
    /// The smallest odd 3^b 5^c 7^d that is at least n (e.g. 140 -> 147): an odd transform has no Nyquist term, so a
    /// sub-pixel phase ramp on a real image's half spectrum stays exact (an even size must drop the Nyquist term's
    /// imaginary part).
    /// </summary>
    public static int NextOddFriendly(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        for (var m = n | 1; m > 0; m += 2)
        {
            if (IsFriendly(m)) return m;
        }
        throw new ArgumentOutOfRangeException(nameof(n), $"no odd 7-smooth size at least {n} fits in an int");
    }

    public static bool IsFriendly(int m)
    {
        if (m <= 0) return false;
        foreach (var p in (ReadOnlySpan<int>)[2, 3, 5, 7])
        {
            while (m % p == 0) m /= p;
        }
        return m == 1;
    }
}
