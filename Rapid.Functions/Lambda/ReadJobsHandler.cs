using Rapid.Core.Jobs;
using Rapid.Functions.Api;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// The AWS job API's reads (API Gateway HTTP API, IAM authorization, payload format 2.0): <c>GET /api/v1/jobs/{id}</c> (a
/// submission, its attempts, jobs and products), <c>GET /api/v1/nights/{procdate}</c> (the night's summary) and
/// <c>GET /api/v1/openapi.json</c> (<see cref="OpenApiDocument.Aws"/>), the same
/// documents as <c>rapid serve</c> (<see cref="JobApiDocuments"/>), read from the ops database (a job's state, jobs and
/// products from the run of the execution it started: <see cref="Submissions.FollowExecutionAsync"/>); an unknown id or night
/// answers 404, a malformed date 400. Products and the night report are named by their S3 URIs (read them with the
/// caller's own S3 permissions; this function only asks whether the night's report exists, and writes nothing).
/// </summary>
public sealed class ReadJobsHandler
{
    public const string JobRoute = "GET /api/v1/jobs/{id}";
    public const string NightRoute = "GET /api/v1/nights/{procdate}";
    public const string OpenApiRoute = "GET " + OpenApiDocument.OpenApiPath;

    private readonly LambdaEnvironment _env;

    public ReadJobsHandler() : this(Environment.GetEnvironmentVariable) { }

    private readonly ObjectLinks _links;

    internal ReadJobsHandler(Func<string, string?> lookup, TimeProvider? clock = null)
    {
        _env = new LambdaEnvironment(lookup);
        _links = new ObjectLinks(lookup, clock);
    }

    public Stream Handle(Stream input) => LambdaStreams.Wait(HttpApiResponse.ServeAsync(input, AnswerAsync));

    private async Task<HttpApiResponse> AnswerAsync(HttpApiRequest request) => request.RouteKey switch
    {
        JobRoute => await JobAsync(request.PathParameter("id") ?? ""),
        NightRoute => await NightAsync(request.PathParameter("procdate") ?? ""),
        OpenApiRoute => HttpApiResponse.Json(200, System.Text.Json.Nodes.JsonNode.Parse(OpenApiDocument.Write(OpenApiDocument.Aws))!),
        _ => HttpApiResponse.Error(404, "no such resource"),
    };

    private async Task<HttpApiResponse> JobAsync(string id)
    {
        var submissions = new Submissions(await _env.DataSourceAsync());
        if (JobApiDocuments.ParseId(id) is not { } subid || await submissions.GetAsync(subid) is not { } recorded)
            return HttpApiResponse.Error(404, JobApiDocuments.Unknown(id));
        // The execution the submission started runs it: its run says how far it is, which jobs it made and their products.
        var row = await submissions.FollowExecutionAsync(recorded);
        IEnumerable<JobApiDocuments.Product> products;
        string? log;
        if (row.JobType == JobTypes.Diff.Name)
            (row, products, log) = await DiffAsync(row);
        else
        {
            products = (await submissions.ProductsAsync(row)).Select(p => new JobApiDocuments.Product(p.Name, p.Uri, Link(p.Uri)));
            log = row.Jid is { } jid && row.ProcDate is { } d ? _links.Link(_env.Keys.Log(new ProcessingDate(d), jid)) : null;
        }
        var job = JobApiDocuments.Job(row, await submissions.AttemptsAsync(row), await submissions.JobsAsync(row), products, log);
        job["execution"] = row.Execution;
        return HttpApiResponse.Json(200, job);
    }

    private async Task<HttpApiResponse> NightAsync(string procdate)
    {
        ProcessingDate date;
        try { date = ProcessingDate.Parse(procdate); }
        catch (FormatException e) { return HttpApiResponse.Error(400, e.Message); }
        NightSummary summary;
        try { summary = await new SummarizeNight(await _env.DataSourceAsync()).SummarizeAsync(date, requireJobs: true); }
        catch (ArgumentException e) { return HttpApiResponse.Error(404, e.Message); }
        var report = _env.Keys.NightReport(date);
        return HttpApiResponse.Json(200, JobApiDocuments.Night(date, summary, await _env.Store.ExistsAsync(report) ? _links.Link(report) : null));
    }

    /// <summary>
    /// A diff as its job's manifest stands (<see cref="DiffOnAws.ManifestAsync"/>; none yet: as recorded): its exit code and
    /// reason, its products and log linked; while its execution runs it reads succeeded once the manifest shows its products,
    /// failed when the job ended without them (an execution that failed is failed by CloseExecution, with its error).
    /// </summary>
    private async Task<(SubmissionRow, IEnumerable<JobApiDocuments.Product>, string?)> DiffAsync(SubmissionRow row)
    {
        if (row.OutDir is not { } outdir || await new DiffOnAws(_env.Store, _env.Keys).ManifestAsync(outdir) is not { } manifest)
            return (row, [], null);
        var open = row.State is "queued" or "running";
        row = row with
        {
            ExitCode = manifest.ExitCode, Reason = manifest.Reason ?? row.Reason,
            State = open ? (DiffOnAws.Succeeded(manifest) ? "succeeded" : "failed") : row.State,
            Ended = row.Ended ?? manifest.Ended.UtcDateTime,
        };
        var products = manifest.Products.Select(p => new JobApiDocuments.Product(p.Role, p.File.ToString(), _links.Link(p.File)));
        return (row, products, _links.Link(_env.Keys.Log(ProcessingDate.Parse(manifest.ProcDate), manifest.Jid)));
    }

    /// <summary>A product's link: presigned when its URI names an object (always, for registered products).</summary>
    private string? Link(string uri) => Rapid.Core.Storage.ObjectRef.TryParse(uri, out var obj) ? _links.Link(obj!) : null;
}
