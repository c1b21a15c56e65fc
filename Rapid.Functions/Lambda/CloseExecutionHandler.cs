using System.Text.Json;
using Rapid.Functions.Api;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// CloseExecution λ: an SQS batch of Step Functions "Execution Status Change" events (EventBridge rule on the stack's two
/// state machines, statuses FAILED, TIMED_OUT and ABORTED → SQS) → what each ended execution left open, closed
/// (<see cref="CloseExecution"/>: its run's open jobs registered or closed as lost, its run ended, its date's lease
/// released) and the job API's submissions it was running failed with the reason (also those whose execution never
/// began a run). A timed-out or stopped execution runs no Catch, so without this its date stays leased until the lease
/// expires. Other events are ignored; a message that fails (not an event, the database unreachable) is reported alone in
/// the partial batch response, retried by SQS and then moved to the dead-letter queue.
/// </summary>
public sealed class CloseExecutionHandler
{
    private readonly LambdaEnvironment _env;

    public CloseExecutionHandler() : this(Environment.GetEnvironmentVariable) { }

    internal CloseExecutionHandler(Func<string, string?> lookup) => _env = new LambdaEnvironment(lookup);

    public Stream Handle(Stream input) => LambdaStreams.Wait(HandleAsync(input));

    private Task<Stream> HandleAsync(Stream input) => SqsBatches.HandleAsync(input, async message =>
    {
        var detail = JsonSerializer.Deserialize(message.Body, LambdaJsonContext.Default.ExecutionStatusChangeEvent)?.Detail;
        if (detail is not { ExecutionArn: { } arn, Status: { } status } || !EndedExecutionStatuses.All.Contains(status)) return;
        var reason = Reason(detail);
        var dataSource = await _env.DataSourceAsync();
        var closed = await new CloseExecution(dataSource, _env.Store, _env.Keys).CloseAsync(arn, status == EndedExecutionStatuses.Aborted, reason);
        var submissions = await new Submissions(dataSource).ExecutionEndedAsync(arn, reason);
        Console.WriteLine($"{arn} {status}: " + (closed.RunId is { } runId
            ? $"run {runId}{(closed.RunEnded ? " ended" : " had ended")}, lease {(closed.LeaseReleased ? "released" : "not held")}, " +
              $"{closed.Registration.Registered} open jobs registered, {closed.Registration.Lost} closed as lost"
            : "no run") + $", {submissions} submissions failed");
    });

    /// <summary>Why the execution's run and jobs were closed: its name, how it ended and, when it failed, its error and cause.</summary>
    internal static string Reason(ExecutionStatusDetail detail)
    {
        var how = detail.Status switch
        {
            EndedExecutionStatuses.TimedOut => "timed out",
            EndedExecutionStatuses.Aborted => "was stopped",
            _ => "failed",
        };
        var reason = $"execution {detail.Name ?? detail.ExecutionArn} {how}";
        if (!string.IsNullOrEmpty(detail.Error)) reason += $": {detail.Error}";
        if (!string.IsNullOrEmpty(detail.Cause)) reason += $": {(detail.Cause.Length <= 500 ? detail.Cause : detail.Cause[..500] + "…")}";
        return reason;
    }
}
