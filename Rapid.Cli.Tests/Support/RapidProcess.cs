using System.Diagnostics;
using System.Text;

namespace Rapid.Cli.Tests.Support;

/// <summary>
/// The <c>rapid</c> command as its own process (built beside the tests, run with the same dotnet host), for what
/// only a real process shows: signals, exit codes, its pipeline children, and being killed.
/// </summary>
public sealed class RapidProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new(), _err = new();

    private RapidProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public string Output { get { lock (_out) return _out.ToString(); } }
    public string Error { get { lock (_err) return _err.ToString(); } }

    public static RapidProcess Start(params string[] args)
    {
        var host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        // Started as from a terminal: a test run launched in the background (`&` in a script) inherits SIGINT and SIGQUIT
        // ignored, and a process that starts with a signal ignored rightly keeps ignoring it. env execs, so Id stays rapid's.
        var start = new ProcessStartInfo("/usr/bin/env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("--default-signal=INT,QUIT");
        start.ArgumentList.Add(host);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rapid.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        var process = new Process { StartInfo = start };
        var rapid = new RapidProcess(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (rapid._out) rapid._out.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (rapid._err) rapid._err.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return rapid;
    }

    /// <summary>Process ids of this process's running pipeline jobs (children running Rapid.Pipeline.dll).</summary>
    public IReadOnlyList<int> PipelineChildren() => Children(Id).Where(pid => CommandLine(pid).Contains("Rapid.Pipeline.dll")).ToList();

    /// <summary>Waits until a pipeline job of this process runs; returns its process id.</summary>
    public async Task<int> WaitForPipelineChildAsync(TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < patience)
        {
            if (PipelineChildren() is [var first, ..]) return first;
            if (_process.HasExited) throw new InvalidOperationException($"rapid exited ({_process.ExitCode}) before a job started: {Error}");
            await Task.Delay(50);
        }
        throw new TimeoutException($"no pipeline job started within {patience.TotalSeconds} s: {Output} {Error}");
    }

    /// <summary>Sends a signal by name (TERM, INT, KILL), as an operator or a supervisor would.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, Id.ToString()])!;
        kill.WaitForExit();
    }

    /// <summary>
    /// Stops a job process (SIGSTOP) so that it is certainly still running when the test acts on its run: a small job
    /// can finish in the moment between being seen and the run receiving a signal, and would then close as succeeded.
    /// SIGKILL, which the run uses on its jobs, still ends a stopped process.
    /// </summary>
    public static void Freeze(int pid)
    {
        using (var kill = Process.Start("kill", ["-STOP", pid.ToString()])!) kill.WaitForExit();
        var clock = Stopwatch.StartNew();
        while (State(pid) != 'T')
        {
            if (!IsAlive(pid) || clock.Elapsed > TimeSpan.FromSeconds(5)) throw new InvalidOperationException($"job process {pid} ended before it could be stopped");
            Thread.Sleep(10);
        }
    }

    /// <summary>Waits until the condition holds (on this process's output, say); a timeout names what the process printed.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > patience) throw new TimeoutException($"waited {patience.TotalSeconds} s: {Output} {Error}");
            await Task.Delay(100);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public static bool IsAlive(int pid) => State(pid) is char state && state != 'Z';

    /// <summary>The process's state letter from /proc (R, S, T, Z, ...), or null when it is gone.</summary>
    private static char? State(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart()[0]; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static IEnumerable<int> Children(int parent) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!))
            .Where(pid => ParentOf(pid) == parent);

    private static int ParentOf(int pid)
    {
        try { return int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Trim().Split(' ')[1]); }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return -1; }
    }

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' '); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
