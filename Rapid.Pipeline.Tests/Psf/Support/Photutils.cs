using Rapid.Pipeline.Tests.Fits.Support;

namespace Rapid.Pipeline.Tests.Psf.Support;

/// <summary>Debian's python3 with photutils and scipy (packages python3-photutils, python3-scipy): an independent ePSF builder and renderer.</summary>
internal static class Photutils
{
    public static string Run(string script, params string[] args)
    {
        var (code, output) = ExternalTool.Run(Astropy.Python, "python3-photutils", ["-c", script, .. args]);
        Assert.True(code == 0, $"python3/photutils failed (install Debian packages python3-photutils and python3-scipy):\n{output}");
        return output;
    }
}
