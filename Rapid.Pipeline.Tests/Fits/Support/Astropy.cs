namespace Rapid.Pipeline.Tests.Fits.Support;

/// <summary>Debian's python3 with astropy (package python3-astropy), used as an independent reference.</summary>
public static class Astropy
{
    public const string Python = "/usr/bin/python3";

    public static string Run(string script, params string[] args)
    {
        var (code, output) = ExternalTool.Run(Python, "python3-astropy", ["-c", script, .. args]);
        Assert.True(code == 0, $"python3/astropy failed (install Debian package python3-astropy):\n{output}");
        return output;
    }
}
