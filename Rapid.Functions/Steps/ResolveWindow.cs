using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

/// <summary>The state machine's input: all optional; text as the user or EventBridge gives it.</summary>
public sealed record WindowRequest(string? StartDateTime = null, string? EndDateTime = null, string? ProcDate = null)
{
    /// <summary>No window given: the scheduled run, whose window continues the previous one (see <see cref="StartNight"/>).</summary>
    public bool IsScheduled => string.IsNullOrWhiteSpace(StartDateTime) && string.IsNullOrWhiteSpace(EndDateTime);
}

/// <summary>The concrete night to process.</summary>
/// <param name="Window">The observation window [start, end) the night covers.</param>
/// <param name="Scheduled">
/// A scheduled run: its window continues the previous scheduled one (the watermark) up to the run's start,
/// and it also plans the images registered late for earlier windows.
/// </param>
public sealed record ResolvedWindow(ObservationWindow Window, ProcessingDate ProcDate, bool Scheduled = false);

/// <summary>
/// Reads a <see cref="WindowRequest"/>, without the database: an explicit window and processing date as
/// given, or, for a scheduled run, its processing date (today in the operations time zone) and its cutoff
/// (now). A scheduled window starts where the previous one ended, which only the ops database knows
/// (<see cref="StartNight"/>); <see cref="Resolve"/> gives the start the very first scheduled run takes:
/// the same local time one day earlier (23 or 25 hours across a daylight-saving change).
/// </summary>
public sealed class ResolveWindow(TimeProvider? clock = null, string timeZone = ProcessingDate.DefaultTimeZone)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string TimeZone => timeZone;

    public ResolvedWindow Resolve(WindowRequest request)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        var hasStart = !string.IsNullOrWhiteSpace(request.StartDateTime);
        var hasEnd = !string.IsNullOrWhiteSpace(request.EndDateTime);
        if (hasStart != hasEnd)
            throw new FormatException(hasStart
                ? "endDateTime is missing: give both startDateTime and endDateTime, or neither for the scheduled run"
                : "startDateTime is missing: give both startDateTime and endDateTime, or neither for the scheduled run");

        // Whole seconds: the window's text form has no fractions, and consecutive windows must meet exactly.
        var now = _clock.GetUtcNow();
        now = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var procDate = string.IsNullOrWhiteSpace(request.ProcDate) ? ProcessingDate.At(now, timeZone)
            : ProcessingDate.TryParse(request.ProcDate.Trim(), out var p) ? p
            : throw new FormatException(ProcessingDate.Problem(request.ProcDate, "procDate"));

        if (hasStart)
        {
            var start = ObservationWindow.ParseTime(request.StartDateTime!, "startDateTime");
            var end = ObservationWindow.ParseTime(request.EndDateTime!, "endDateTime");
            if (end <= start)
                throw new FormatException($"endDateTime '{request.EndDateTime}' is not after startDateTime '{request.StartDateTime}': the window is inverted or empty");
            return new ResolvedWindow(new ObservationWindow(start, end), procDate);
        }
        var cutoff = now.UtcDateTime;
        var localCutoff = TimeZoneInfo.ConvertTimeFromUtc(cutoff, zone);
        return new ResolvedWindow(new ObservationWindow(LocalToUtc(localCutoff.AddDays(-1), zone), cutoff), procDate, Scheduled: true);
    }

    /// <summary>A local wall-clock time as UTC; a time skipped by a spring-forward change is read one hour later, an ambiguous one as standard time.</summary>
    private static DateTime LocalToUtc(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local)) local = local.AddHours(1);
        return TimeZoneInfo.ConvertTimeToUtc(local, zone);
    }
}
