using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rapid.Cli.Embedded;
using Rapid.Cli.Engine;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.Api;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Api;

/// <summary>
/// <c>rapid serve</c>'s HTTP API (ASP.NET Core, Kestrel): jobs submitted (<see cref="Submissions"/>, validated against
/// <see cref="JobTypes"/> before anything is written) and run one at a time by <see cref="SubmissionRunner"/>; jobs and
/// nights read back; the OpenAPI document generated from the same declarations (<see cref="OpenApiDocument"/>). Every
/// call needs the bearer token (<see cref="ApiToken"/>); bodies are limited to <see cref="MaxBodyBytes"/>; every error is
/// <c>{"error": "..."}</c> (with <c>"input"</c> naming the input a submission was refused for).
/// </summary>
public sealed class JobApi(EmbeddedWorkflow workflow, ApiToken token)
{
    public const long MaxBodyBytes = SubmissionBody.MaxBytes;
    public const string Prefix = JobApiDocuments.Prefix;

    private readonly Submissions _submissions = new(workflow.Database);
    private readonly SemaphoreSlim _submitted = new(0);
    private SubmissionRunner? _runner;

    public WebApplication Build(IReadOnlyList<string> urls)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls([.. urls]);
        builder.Services.Configure<KestrelServerOptions>(k =>
        {
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            k.AddServerHeader = false;
        });
        var app = builder.Build();
        // An unexpected failure: one line on the server's stderr (never the token: it is not in a path or an exception), 500 to the client.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (e is not OperationCanceledException && !context.Response.HasStarted)
            {
                Console.Error.WriteLine($"rapid: serve: {context.Request.Method} {context.Request.Path}: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                await Error(StatusCodes.Status500InternalServerError, $"the server failed: {e.GetType().Name} (see its log)").ExecuteAsync(context);
            }
        });
        app.Use(async (context, next) =>
        {
            if (!token.Accepts(context.Request.Headers.Authorization))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await Error(StatusCodes.Status401Unauthorized, "a valid bearer token is required (Authorization: Bearer <the token in the server's token file>)")
                    .ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        app.MapPost($"{Prefix}/jobs", (Func<HttpContext, Task<IResult>>)SubmitAsync);
        app.MapGet($"{Prefix}/jobs/{{id}}", GetJobAsync);
        app.MapDelete($"{Prefix}/jobs/{{id}}", CancelAsync);
        app.MapGet($"{Prefix}/jobs/{{id}}/products/{{name}}", GetProductAsync);
        app.MapGet($"{Prefix}/jobs/{{id}}/log", GetLogAsync);
        app.MapGet($"{Prefix}/nights/{{procdate}}", GetNightAsync);
        app.MapGet($"{Prefix}/nights/{{procdate}}/report", GetReportAsync);
        app.MapGet($"{Prefix}/openapi.json", () => Results.Text(OpenApiDocument.Write(OpenApiDocument.Serve), "application/json"));
        app.MapFallback(() => Error(StatusCodes.Status404NotFound, "no such resource (the API is described at /api/v1/openapi.json)"));
        return app;
    }

    /// <summary>Runs queued submissions one at a time until cancelled (woken by each submission, else every 2 s).</summary>
    public async Task RunSubmissionsAsync(CancellationToken ct)
    {
        await _submissions.CloseInterruptedAsync(ct);
        var runner = _runner = new SubmissionRunner(workflow, _submissions);
        while (!ct.IsCancellationRequested)
        {
            if (!await runner.RunNextAsync(ct)) await _submitted.WaitAsync(TimeSpan.FromSeconds(2), ct);
        }
    }

    private async Task<IResult> SubmitAsync(HttpContext context)
    {
        if (context.Request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return Error(StatusCodes.Status415UnsupportedMediaType, "the body must be JSON (Content-Type: application/json)");
        SubmissionBody body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            body = SubmissionBody.Read(document.RootElement);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes} bytes");
        }
        catch (JsonException e)
        {
            return Error(StatusCodes.Status400BadRequest, $"the body is not JSON: {e.Message}");
        }
        catch (ApiRequestException e)
        {
            return Error(e.Status, e.Message);
        }
        catch (JobInputException e)
        {
            return Refused(e);
        }
        long id;
        try
        {
            id = await _submissions.SubmitAsync(body.Type, body.Inputs, body.Tag, context.RequestAborted);
        }
        catch (JobInputException e)
        {
            return Refused(e);
        }
        _submitted.Release();
        context.Response.Headers.Location = JobApiDocuments.JobHref(id);
        return Results.Json(JobApiDocuments.Accepted(id, body.Type!, "queued"), statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<IResult> GetJobAsync(string id, CancellationToken ct)
    {
        if (await FindAsync(id, ct) is not { } row) return Unknown(id);
        var href = JobApiDocuments.JobHref(row.Subid);
        var products = (await ProductsAsync(row, ct)).Select(p => new JobApiDocuments.Product(p.Name, p.Uri, $"{href}/products/{Uri.EscapeDataString(p.Name)}"));
        return Results.Json(JobApiDocuments.Job(row, await _submissions.AttemptsAsync(row, ct), await _submissions.JobsAsync(row, ct), products,
            LogPath(row) is not null ? $"{href}/log" : null));
    }

    /// <summary>
    /// <c>DELETE /api/v1/jobs/{id}</c>, as on AWS: a queued or running submission fails with "cancelled through the job API"
    /// and a running one's run is stopped (<see cref="SubmissionRunner.Cancel"/>); 409 once it has ended, 404 for an unknown id.
    /// </summary>
    private async Task<IResult> CancelAsync(string id, CancellationToken ct)
    {
        if (await FindAsync(id, ct) is not { } row) return Unknown(id);
        const string reason = JobApiDocuments.CancelledReason;
        if (!await _submissions.CancelledAsync(row.Subid, reason, ct))
            return Error(StatusCodes.Status409Conflict, JobApiDocuments.Ended(row.Subid, (await _submissions.GetAsync(row.Subid, ct))?.State));
        var stopped = _runner?.Cancel(row.Subid) == true;
        Console.Error.WriteLine($"rapid: serve: job {row.Subid} ({row.JobType}): {reason}{(stopped ? " (its run stopped)" : "")}");
        return Results.Json(JobApiDocuments.Cancelled(row.Subid, row.JobType, reason), statusCode: StatusCodes.Status202Accepted);
    }

    private async Task<IResult> GetProductAsync(string id, string name, CancellationToken ct)
    {
        if (await FindAsync(id, ct) is not { } row) return Unknown(id);
        var product = (await ProductsAsync(row, ct)).FirstOrDefault(p => p.Name == name);
        return product is null || !File.Exists(product.Path)
            ? Error(StatusCodes.Status404NotFound, $"job {row.Subid} has no product '{name}'")
            : Results.File(product.Path, "application/octet-stream", Path.GetFileName(product.Path));
    }

    private async Task<IResult> GetLogAsync(string id, CancellationToken ct)
    {
        if (await FindAsync(id, ct) is not { } row) return Unknown(id);
        return LogPath(row) is { } path && File.Exists(path)
            ? Results.File(path, "text/plain; charset=utf-8")
            : Error(StatusCodes.Status404NotFound, $"job {row.Subid} has no log yet");
    }

    private async Task<IResult> GetNightAsync(string procdate, CancellationToken ct)
    {
        ProcessingDate date;
        try { date = ProcessingDate.Parse(procdate); }
        catch (FormatException e) { return Error(StatusCodes.Status400BadRequest, e.Message); }
        NightSummary summary;
        try { summary = await new SummarizeNight(workflow.Database).SummarizeAsync(date, requireJobs: true, ct); }
        catch (ArgumentException e) { return Error(StatusCodes.Status404NotFound, e.Message); }
        return Results.Json(JobApiDocuments.Night(date, summary, File.Exists(ReportPath(date)) ? $"{Prefix}/nights/{date}/report" : null));
    }

    private IResult GetReportAsync(string procdate)
    {
        ProcessingDate date;
        try { date = ProcessingDate.Parse(procdate); }
        catch (FormatException e) { return Error(StatusCodes.Status400BadRequest, e.Message); }
        var path = ReportPath(date);
        return File.Exists(path) ? Results.File(path, "text/html; charset=utf-8") : Error(StatusCodes.Status404NotFound, $"no night report for {date} yet");
    }

    private string ReportPath(ProcessingDate date) => workflow.Home.OpenStore().PathOf(new ObjectKeys(workflow.Buckets).NightReport(date));

    private async Task<SubmissionRow?> FindAsync(string id, CancellationToken ct) =>
        JobApiDocuments.ParseId(id) is { } subid ? await _submissions.GetAsync(subid, ct) : null;

    private sealed record Product(string Name, string Uri, string Path);

    /// <summary>A submission's registered products (<see cref="Submissions.ProductsAsync"/>), or the files a diff wrote.</summary>
    private async Task<IReadOnlyList<Product>> ProductsAsync(SubmissionRow row, CancellationToken ct)
    {
        if (row.OutDir is { } dir && Directory.Exists(dir))
            return [.. Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).Select(f => new Product(Path.GetFileName(f), new Uri(f).AbsoluteUri, f))];
        var store = workflow.Home.OpenStore();
        return [.. (await _submissions.ProductsAsync(row, ct)).Select(p => new Product(p.Name, p.Uri, store.PathOf(ObjectRef.Parse(p.Uri))))];
    }

    private string? LogPath(SubmissionRow row) =>
        row.OutDir is { } dir ? Path.Combine(dir, "diff.log")
        : row.Jid is { } jid && row.ProcDate is { } d
            ? workflow.Home.OpenStore().PathOf(new ObjectKeys(workflow.Buckets).Log(new ProcessingDate(d), jid))
            : null;

    private static IResult Unknown(string id) => Error(StatusCodes.Status404NotFound, JobApiDocuments.Unknown(id));

    private static IResult Refused(JobInputException e) => Results.Json(JobApiDocuments.Refusal(e), statusCode: JobApiDocuments.RefusedStatus);

    private static IResult Error(int status, string message) => Results.Json(JobApiDocuments.Error(message), statusCode: status);
}
