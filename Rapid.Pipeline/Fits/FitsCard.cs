namespace Rapid.Pipeline.Fits;

/// <summary>
/// One FITS header keyword. <see cref="Value"/> is the value text as written in FITS
/// (strings keep their single quotes, logicals are T/F); null for COMMENT/HISTORY/blank cards
/// and for keywords with an undefined value.
/// </summary>
public sealed record FitsCard(string Key, string? Value, string? Comment);
