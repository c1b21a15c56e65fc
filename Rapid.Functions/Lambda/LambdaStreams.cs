using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Lambda;

/// <summary>Payload in, payload out. Errors name the field: Step Functions shows the message as the state's cause.</summary>
internal static class LambdaStreams
{
    public static T Read<T>(Stream input, JsonTypeInfo<T> type, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(input, type) ?? throw new InvalidDataException($"{what}: the input is null");
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 1 } path ? $"field {path}" : "input";
            throw new InvalidDataException($"{what}: {field} is not valid: {e.Message}", e);
        }
    }

    public static Stream Write<T>(T value, JsonTypeInfo<T> type) => new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(value, type));

    /// <summary>
    /// The managed runtime calls a synchronous <c>Stream Handle(Stream)</c>; the steps are async.
    /// There is no synchronization context in Lambda, so waiting here cannot deadlock.
    /// </summary>
    public static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();

    /// <summary>
    /// The window the plan steps select from (a scheduled night's reaches back to its late arrivals) and the
    /// processing date of a resolved night; errors name the field.
    /// </summary>
    public static (ObservationWindow Window, ProcessingDate ProcDate) Parse(NightInput night)
    {
        var (window, procDate) = ParseWindow(night);
        if (night.LateFrom is { } late)
        {
            var from = ObservationWindow.ParseTime(late, "night.lateFrom");
            if (from < window.Start) window = window with { Start = from };
        }
        return (window, procDate);
    }

    /// <summary>The window [start, end) and processing date as ResolveWindow wrote them.</summary>
    public static (ObservationWindow Window, ProcessingDate ProcDate) ParseWindow(NightInput night)
    {
        var start = ObservationWindow.ParseTime(night.StartDateTime, "night.startDateTime");
        var end = ObservationWindow.ParseTime(night.EndDateTime, "night.endDateTime");
        if (end <= start)
            throw new FormatException($"night.endDateTime '{night.EndDateTime}' is not after night.startDateTime '{night.StartDateTime}'");
        if (!ProcessingDate.TryParse(night.ProcDate, out var procDate))
            throw new FormatException(ProcessingDate.Problem(night.ProcDate, "night.procDate"));
        return (new ObservationWindow(start, end), procDate);
    }
}
