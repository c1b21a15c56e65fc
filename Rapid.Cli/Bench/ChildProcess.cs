using System.Diagnostics;
using System.Globalization;

namespace Rapid.Cli.Bench;

/// <summary>How a child process ended: exit code, wall time, peak resident memory (VmHWM, polled; 0 when unknown) and its stderr tail.</summary>
public sealed record ChildRun(int ExitCode, TimeSpan Wall, long PeakMemoryBytes, string ErrorTail);

/// <summary>
/// Runs a program to its end for the benchmarks, timing it and watching its peak memory: /proc/{pid}/status VmHWM
/// only grows, so the last value read before the process exits (polled every 20 ms) is its peak within that interval.
/// </summary>
public static class ChildProcess
{
    public static async Task<ChildRun> RunAsync(string program, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, CancellationToken ct = default)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        using var process = new Process { StartInfo = start };
        var errors = new Queue<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } d) lock (errors) { errors.Enqueue(d); if (errors.Count > 5) errors.Dequeue(); } };
        process.OutputDataReceived += (_, _) => { };
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        long peak = 0;
        var exited = process.WaitForExitAsync(ct);
        while (!exited.IsCompleted)
        {
            peak = Math.Max(peak, PeakOf(process.Id));
            await Task.WhenAny(exited, Task.Delay(20, ct));
        }
        await exited;
        var wall = clock.Elapsed;
        process.WaitForExit(); // drains the redirected streams
        lock (errors) return new ChildRun(process.ExitCode, wall, peak, string.Join(" | ", errors));
    }

    private static long PeakOf(int pid) => Core.Jobs.ProcessMemory.PeakResidentBytes(pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>The full path of a program on PATH, or null.</summary>
    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}
