namespace Rapid.Pipeline.Tests.Fits.Support;

/// <summary>fitsverify (HEASARC, Debian package fitsverify): the reference check that a file is valid FITS.</summary>
public static class FitsVerify
{
    public static void AssertValid(string path)
    {
        var (code, output) = ExternalTool.Run("fitsverify", "fitsverify", "-q", path);
        Assert.True(code == 0 && output.Contains("verification OK"), $"fitsverify rejects {path}:\n{output}\n{ExternalTool.Run("fitsverify", "fitsverify", path).Output}");
    }
}
