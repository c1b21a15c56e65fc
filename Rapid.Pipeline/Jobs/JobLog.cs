using System.Diagnostics;
using System.Globalization;
using System.Text;
using Rapid.Core.Contracts;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// The job's log: timestamped lines (UTC, ISO 8601) written to the local log file and kept in memory, plus the
/// job's timeline: every named step with its start and end times, wall seconds and the CPU seconds the process spent
/// in it (all threads; on a shared machine wall time says little about where the work is). The manifest carries the
/// timeline (<see cref="ProductManifest.Timeline"/>).
/// </summary>
public sealed class JobLog
{
    private readonly StringBuilder _text = new();
    private readonly List<StepRecord> _timeline = [];
    private readonly Func<DateTimeOffset> _clock;
    private readonly TextWriter? _echo;

    /// <param name="echo">Where lines are also written as they happen (stdout in Batch, so CloudWatch has them).</param>
    public JobLog(TextWriter? echo = null, Func<DateTimeOffset>? clock = null)
    {
        _echo = echo;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>The steps that ended so far, in the order they started.</summary>
    public IReadOnlyList<StepRecord> Timeline
    {
        get { lock (_timeline) return [.. _timeline.OrderBy(s => s.Started)]; }
    }

    /// <summary>Wall seconds per step name, summed over its runs.</summary>
    public IReadOnlyDictionary<string, double> StepSeconds =>
        Timeline.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.Sum(s => s.WallSeconds));

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

    /// <summary>Times a step: <c>using (log.Step("coadd")) { ... }</c>. A step run twice is in the timeline twice.</summary>
    public IDisposable Step(string name)
    {
        Info($"step {name}: start");
        return new StepTimer(this, name);
    }

    private sealed class StepTimer(JobLog log, string name) : IDisposable
    {
        private readonly DateTimeOffset _started = log._clock();
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly TimeSpan _cpuStart = Environment.CpuUsage.TotalTime;

        public void Dispose()
        {
            var seconds = Math.Round(Stopwatch.GetElapsedTime(_start).TotalSeconds, 3);
            var cpu = Math.Round((Environment.CpuUsage.TotalTime - _cpuStart).TotalSeconds, 3);
            lock (log._timeline) log._timeline.Add(new StepRecord(name, _started, log._clock(), seconds, cpu));
            log.Info($"step {name}: done in {seconds.ToString("0.000", CultureInfo.InvariantCulture)} s (cpu {cpu.ToString("0.000", CultureInfo.InvariantCulture)} s)");
        }
    }
}
