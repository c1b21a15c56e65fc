using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// The job's log: timestamped lines (UTC, ISO 8601) written to the local log file and kept in memory,
/// plus the wall time of each named step (the manifest's StepSeconds). Each step's line also gives the CPU time the
/// process spent in it (all threads): on a shared machine wall time says little about where the work is.
/// </summary>
public sealed class JobLog
{
    private readonly StringBuilder _text = new();
    private readonly Dictionary<string, double> _steps = new(StringComparer.Ordinal);
    private readonly Func<DateTimeOffset> _clock;
    private readonly TextWriter? _echo;

    /// <param name="echo">Where lines are also written as they happen (stdout in Batch, so CloudWatch has them).</param>
    public JobLog(TextWriter? echo = null, Func<DateTimeOffset>? clock = null)
    {
        _echo = echo;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    public IReadOnlyDictionary<string, double> StepSeconds => _steps;

    public string Text { get { lock (_text) return _text.ToString(); } }

    public void Info(string message)
    {
        var line = $"{_clock().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} {message}";
        lock (_text)
        {
            _text.AppendLine(line);
            _echo?.WriteLine(line);
        }
    }

    /// <summary>Times a step: <c>using (log.Step("coadd")) { ... }</c>. A step run twice accumulates.</summary>
    public IDisposable Step(string name)
    {
        Info($"step {name}: start");
        return new StepTimer(this, name);
    }

    private sealed class StepTimer(JobLog log, string name) : IDisposable
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly TimeSpan _cpuStart = Environment.CpuUsage.TotalTime;

        public void Dispose()
        {
            var seconds = Math.Round(Stopwatch.GetElapsedTime(_start).TotalSeconds, 3);
            var cpu = (Environment.CpuUsage.TotalTime - _cpuStart).TotalSeconds;
            lock (log._steps) log._steps[name] = log._steps.GetValueOrDefault(name) + seconds;
            log.Info($"step {name}: done in {seconds.ToString("0.000", CultureInfo.InvariantCulture)} s (cpu {cpu.ToString("0.000", CultureInfo.InvariantCulture)} s)");
        }
    }
}
