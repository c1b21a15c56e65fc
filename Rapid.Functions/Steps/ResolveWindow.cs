using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

/// <summary>The state machine's input: all optional; text as the user or EventBridge gives it.</summary>
public sealed record WindowRequest(string? StartDateTime = null, string? EndDateTime = null, string? ProcDate = null);

/// <summary>The concrete night to process.</summary>
public sealed record ResolvedWindow(ObservationWindow Window, ProcessingDate ProcDate);

/// <summary>
/// Turns a <see cref="WindowRequest"/> into a concrete window and processing date. Defaults: the
/// previous night in the operations time zone (noon yesterday to noon today, local time, as UTC),
/// processed under today's date there.
/// </summary>
public sealed class ResolveWindow(TimeProvider? clock = null, string timeZone = ProcessingDate.DefaultTimeZone)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public ResolvedWindow Resolve(WindowRequest request)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(timeZone);
        var now = _clock.GetUtcNow();
        var today = ProcessingDate.At(now, timeZone);

        var hasStart = !string.IsNullOrWhiteSpace(request.StartDateTime);
        var hasEnd = !string.IsNullOrWhiteSpace(request.EndDateTime);
        if (hasStart != hasEnd)
            throw new FormatException(hasStart
                ? "endDateTime is missing: give both startDateTime and endDateTime, or neither for last night"
                : "startDateTime is missing: give both startDateTime and endDateTime, or neither for last night");

        ObservationWindow window;
        if (hasStart)
        {
            var start = ObservationWindow.ParseTime(request.StartDateTime!, "startDateTime");
            var end = ObservationWindow.ParseTime(request.EndDateTime!, "endDateTime");
            if (end <= start)
                throw new FormatException($"endDateTime '{request.EndDateTime}' is not after startDateTime '{request.StartDateTime}': the window is inverted or empty");
            window = new ObservationWindow(start, end);
        }
        else
        {
            var noonToday = today.Date.ToDateTime(new TimeOnly(12, 0));
            window = new ObservationWindow(
                TimeZoneInfo.ConvertTimeToUtc(noonToday.AddDays(-1), zone),
                TimeZoneInfo.ConvertTimeToUtc(noonToday, zone));
        }

        var procDate = string.IsNullOrWhiteSpace(request.ProcDate) ? today
            : ProcessingDate.TryParse(request.ProcDate.Trim(), out var p) ? p
            : throw new FormatException($"procDate '{request.ProcDate}' is not a date of the form yyyyMMdd (e.g. 20250404)");
        return new ResolvedWindow(window, procDate);
    }
}
