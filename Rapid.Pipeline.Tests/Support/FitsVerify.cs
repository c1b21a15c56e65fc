using System.Diagnostics;

namespace Rapid.Pipeline.Tests.Support;

/// <summary>Runs HEASARC's fitsverify (Debian package fitsverify) on a file.</summary>
internal static class FitsVerify
{
    public static void AssertValid(string path)
    {
        var start = new ProcessStartInfo("fitsverify", ["-q", path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start fitsverify");
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0 && output.Contains("verification OK", StringComparison.Ordinal), $"fitsverify {path}: {output}");
    }
}
