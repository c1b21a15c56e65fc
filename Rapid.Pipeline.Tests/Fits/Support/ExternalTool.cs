using System.Diagnostics;

namespace Rapid.Pipeline.Tests.Fits.Support;

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
