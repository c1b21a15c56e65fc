namespace Rapid.Pipeline.Fits;

/// <summary>
/// Header keywords whose meaning is the same in every product, declared once. The zero point is ZPTMAG everywhere:
/// the AB magnitude of one DN/s of that file's own pixels (mag = ZPTMAG - 2.5 log10(DN/s)), so a reference resampled
/// onto the science grid carries the reference's, not the science image's.
/// </summary>
public static class ProductKeywords
{
    public const string ZeroPoint = "ZPTMAG";
    public const string ZeroPointComment = "AB mag of 1 DN/s of these pixels";
    /// <summary>What co-added references carried before ZPTMAG was the one convention; still read.</summary>
    public const string LegacyZeroPoint = "MAGZP";
}
