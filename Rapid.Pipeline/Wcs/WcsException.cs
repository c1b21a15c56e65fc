namespace Rapid.Pipeline.Wcs;

/// <summary>A missing or invalid WCS description; the message names the source (file) and the keyword.</summary>
public sealed class WcsException : Exception
{
    public WcsException(string source, string? keyword, string problem)
        : base(keyword is null ? $"{source}: {problem}" : $"{source}: WCS keyword {keyword} {problem}")
    {
        WcsSource = source;
        Keyword = keyword;
    }

    /// <summary>Where the WCS came from (usually a file path).</summary>
    public string WcsSource { get; }

    /// <summary>The offending keyword, when one is to blame.</summary>
    public string? Keyword { get; }
}
