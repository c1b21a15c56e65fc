using System.Diagnostics;

namespace Rapid.Pipeline.Tests.Fits;

/// <summary>A temporary directory per test class, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rapid-pipeline-tests-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Runs an external program and returns its exit code and combined output; a missing program fails with the package to install.</summary>
public static class ExternalTool
{
    public static (int ExitCode, string Output) Run(string program, string debianPackage, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is not available ({e.Message}); install Debian package {debianPackage}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(120_000)) { process.Kill(true); throw new TimeoutException($"{program} did not finish in 120 s"); }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
    }
}

/// <summary>fitsverify (HEASARC, Debian package fitsverify): the reference check that a file is valid FITS.</summary>
public static class FitsVerify
{
    public static void AssertValid(string path)
    {
        var (code, output) = ExternalTool.Run("fitsverify", "fitsverify", "-q", path);
        Assert.True(code == 0 && output.Contains("verification OK"), $"fitsverify rejects {path}:\n{output}\n{ExternalTool.Run("fitsverify", "fitsverify", path).Output}");
    }
}

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
