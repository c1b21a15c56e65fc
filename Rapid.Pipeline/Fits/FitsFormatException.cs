namespace Rapid.Pipeline.Fits;

/// <summary>A file that is not valid FITS (or not the FITS we can read); the message names the file and the problem.</summary>
public sealed class FitsFormatException : Exception
{
    public FitsFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        FilePath = path;
        Problem = problem;
    }

    public string FilePath { get; }
    public string Problem { get; }
}
