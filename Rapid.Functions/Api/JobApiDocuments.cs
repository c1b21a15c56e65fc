using System.Text.Json.Nodes;
using Rapid.Core.Jobs;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Api;

/// <summary>
/// The job API's answers, one shape for <c>rapid serve</c> and the AWS job API λ: errors <c>{"error": "..."}</c> (with
/// <c>"input"</c> naming the input a submission was refused for), the accepted submission, a job, a night. Where the two
/// differ (product and log links: files on this machine, S3 URIs on AWS) the caller passes what it has.
/// </summary>
public static class JobApiDocuments
{
    public const string Prefix = "/api/v1";

    /// <summary>The status a refused input answers (the request is well-formed; its content is not acceptable).</summary>
    public const int RefusedStatus = 422;

    public static string JobHref(long id) => $"{Prefix}/jobs/{id}";

    public static JsonObject Error(string message) => new() { ["error"] = message };

    public static JsonObject Refusal(JobInputException e) => Refusal(e.Input, e.Message);

    public static JsonObject Refusal(string input, string message) => new()
    {
        ["error"] = message.StartsWith("input '", StringComparison.Ordinal) ? message : $"input '{input}': {message}",
        ["input"] = input,
    };

    public static string Unknown(string id) => $"no job {(id.Length > 40 ? id[..40] + "..." : id)}";

    /// <summary>A submission id as a path gives it: a positive integer, or null (which answers as an unknown job).</summary>
    public static long? ParseId(string id) =>
        long.TryParse(id, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var subid) && subid > 0 ? subid : null;

    public static JsonObject Accepted(long id, string type, string state) => new()
    {
        ["id"] = id, ["type"] = type, ["state"] = state, ["href"] = JobHref(id),
    };

    /// <summary>The reason a submission cancelled through <c>DELETE /api/v1/jobs/{id}</c> fails with (both fronts).</summary>
    public const string CancelledReason = "cancelled through the job API";

    /// <summary>409's message: a submission that has ended cannot be cancelled.</summary>
    public static string Ended(long id, string? state) => $"job {id} has ended ({state}): there is nothing to cancel";

    /// <summary>202's answer to a cancel: the submission, now failed with <paramref name="reason"/>.</summary>
    public static JsonObject Cancelled(long id, string type, string reason)
    {
        var answer = Accepted(id, type, "failed");
        answer["reason"] = reason;
        return answer;
    }

    /// <summary>A product: its name in the API, its URI, and where the API serves it (null: not served, read it at its URI).</summary>
    public sealed record Product(string Name, string Uri, string? Href);

    public static JsonObject Job(SubmissionRow row, IEnumerable<SubmissionAttempt> attempts, IEnumerable<SubmittedPipelineJob> jobs,
        IEnumerable<Product> products, string? logHref) => new()
    {
        ["id"] = row.Subid, ["type"] = row.JobType,
        ["inputs"] = new JsonObject(row.InputValues.Select(i => KeyValuePair.Create(i.Key, (JsonNode?)i.Value))),
        ["tag"] = row.Tag, ["state"] = row.State,
        ["procdate"] = row.ProcDate is { } d ? new ProcessingDate(d).ToString() : null,
        ["jid"] = row.Jid,
        ["attempts"] = new JsonArray([.. attempts.Select(a => (JsonNode)new JsonObject
        {
            ["attempt"] = a.Attempt, ["exitCode"] = a.ExitCode, ["reason"] = a.Reason, ["software"] = a.Software,
            ["gitCommit"] = a.GitCommit, ["started"] = a.Started, ["ended"] = a.Ended,
        })]),
        ["exitCode"] = row.ExitCode,
        ["jobs"] = new JsonArray([.. jobs.Select(j => (JsonNode)new JsonObject
        {
            ["jid"] = j.Jid, ["ppid"] = j.Ppid, ["exitCode"] = j.ExitCode, ["reason"] = j.Reason, ["software"] = j.Software, ["gitCommit"] = j.GitCommit,
        })]),
        ["reason"] = row.Reason, ["software"] = row.Software,
        ["submitted"] = row.Submitted, ["started"] = row.Started, ["ended"] = row.Ended,
        ["products"] = new JsonArray([.. products.Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["uri"] = p.Uri, ["href"] = p.Href })]),
        ["log"] = logHref,
    };

    public static JsonObject Night(ProcessingDate date, NightSummary summary, string? reportHref) => new()
    {
        ["procdate"] = date.ToString(),
        ["jobs"] = new JsonArray([.. summary.Jobs.Select(j => (JsonNode)new JsonObject
        {
            ["ppid"] = j.Ppid, ["status"] = j.Status, ["exitCode"] = j.ExitCode, ["count"] = j.Count,
        })]),
        ["totalJobs"] = summary.TotalJobs, ["referenceImages"] = summary.ReferenceImages, ["differenceImages"] = summary.DifferenceImages,
        ["withdrawnProducts"] = summary.WithdrawnProducts, ["sourcesFound"] = summary.SourcesFound,
        ["failures"] = new JsonArray([.. summary.Failures.Select(f => (JsonNode)new JsonObject
        {
            ["jid"] = f.Jid, ["ppid"] = f.Ppid, ["exitCode"] = f.ExitCode, ["reason"] = f.Reason, ["rid"] = f.Rid,
        })]),
        ["warnings"] = new JsonArray([.. summary.Warnings.Select(w => (JsonNode)new JsonObject
        {
            ["ppid"] = w.Ppid, ["kind"] = w.Kind, ["jobs"] = w.Jobs,
        })]),
        ["report"] = reportHref,
    };
}
