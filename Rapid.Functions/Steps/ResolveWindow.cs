using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

/// <summary>The state machine's input: all optional; text as the user or EventBridge gives it.</summary>
public sealed record WindowRequest(string? StartDateTime = null, string? EndDateTime = null, string? ProcDate = null)
{
    /// <summary>No window given: the scheduled run, whose window continues the previous one (see <see cref="StartNight"/>).</summary>
    public bool IsScheduled => string.IsNullOrWhiteSpace(StartDateTime) && string.IsNullOrWhiteSpace(EndDateTime);

    /// <summary>What the request's fields are called where it came from, so an error names what its author typed.</summary>
    public WindowFields Fields { get; init; } = WindowFields.ExecutionInput;
}

/// <summary>The names of a <see cref="WindowRequest"/>'s three fields in one vocabulary (JSON input or command line).</summary>
public sealed record WindowFields(string Start, string End, string ProcDate)
{
    /// <summary>The state machine's execution input (and the ResolveWindow λ's event).</summary>
    public static readonly WindowFields ExecutionInput = new("startDateTime", "endDateTime", "procDate");

    /// <summary><c>rapid run</c>'s options.</summary>
    public static readonly WindowFields CommandLine = new("--start", "--end", "--procdate");
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
        var names = request.Fields;
        if (hasStart != hasEnd)
            throw new FormatException($"{(hasStart ? names.End : names.Start)} is missing: give both {names.Start} and {names.End}, or neither for the scheduled run");

        // Whole seconds: the window's text form has no fractions, and consecutive windows must meet exactly.
        var now = _clock.GetUtcNow();
        now = new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var procDate = string.IsNullOrWhiteSpace(request.ProcDate) ? ProcessingDate.At(now, timeZone)
            : ProcessingDate.TryParse(request.ProcDate.Trim(), out var p) ? p
            : throw new FormatException(ProcessingDate.Problem(request.ProcDate, names.ProcDate));

        if (hasStart)
        {
            var start = ObservationWindow.ParseTime(request.StartDateTime!, names.Start);
            var end = ObservationWindow.ParseTime(request.EndDateTime!, names.End);
            if (end <= start)
                throw new FormatException($"{names.End} '{request.EndDateTime}' is not after {names.Start} '{request.StartDateTime}': the window is inverted or empty");
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
