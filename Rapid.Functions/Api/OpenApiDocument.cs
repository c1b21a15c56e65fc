using System.Text;
using System.Text.Json;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Api;

/// <summary>
/// The OpenAPI 3.1 document of the job API, generated from <see cref="JobTypes"/> (one schema per job type the front runs, its
/// inputs and which are required), so the document and the validation cannot disagree. One document per front end
/// (<see cref="ApiFront"/>): <c>rapid serve</c>'s (bearer token, product, log and report downloads) and the AWS HTTP API's
/// (requests signed with SigV4 by a principal allowed execute-api:Invoke; products, logs and reports linked by presigned S3
/// URLs; a diff's files are S3 objects under the stack's diff-inputs prefix).
/// </summary>
public static class OpenApiDocument
{
    /// <summary>What differs between the two front ends of the job API.</summary>
    /// <param name="Security">The security scheme's name and its OpenAPI object's members.</param>
    /// <param name="Unauthenticated">The status and meaning of a call without valid credentials.</param>
    /// <param name="Downloads">Whether the front serves products, logs and night reports itself.</param>
    /// <param name="Cancel">Whether the front cancels jobs (<c>DELETE /api/v1/jobs/{id}</c>).</param>
    public sealed record ApiFront(string Description, string Security, IReadOnlyDictionary<string, string> SecurityScheme,
        (string Code, string Description) Unauthenticated, bool Downloads, IReadOnlyList<JobType> Types, bool Cancel = false);

    /// <summary><c>rapid serve</c>: every call needs the bearer token of the server's token file.</summary>
    public static readonly ApiFront Serve = new(
        "Submit RAPID pipeline jobs and read jobs and nights. Every call needs the bearer token from the server's token file.",
        "bearer", new Dictionary<string, string> { ["type"] = "http", ["scheme"] = "bearer" },
        ("401", "no valid bearer token"), Downloads: true, JobTypes.All, Cancel: true);

    /// <summary>
    /// The AWS job API (API Gateway HTTP API, IAM authorization): requests are SigV4-signed (service execute-api); API
    /// Gateway itself answers 403 to an unsigned or unauthorized one. A diff's files are objects (<see cref="JobTypes.DiffObjects"/>).
    /// </summary>
    public static readonly ApiFront Aws = new(
        "Submit RAPID pipeline jobs and read jobs and nights on AWS. Every request is signed with AWS Signature Version 4 " +
        "(service execute-api) by a principal allowed execute-api:Invoke on the API; products, logs and night reports are linked " +
        "by presigned S3 GET URLs that expire after 15 minutes (read the job again for new ones). A diff's files are S3 objects " +
        $"under s3://{{pipeline bucket}}/{DiffOnAws.InputPrefix}.",
        "sigv4", new Dictionary<string, string> { ["type"] = "apiKey", ["name"] = "Authorization", ["in"] = "header", ["x-amazon-apigateway-authtype"] = "awsSigv4" },
        ("403", "not signed, or the signer may not invoke the API"), Downloads: false, JobTypes.OnAws, Cancel: true);

    public static string Write(ApiFront front)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            var denied = front.Unauthenticated;
            w.WriteStartObject();
            w.WriteString("openapi", "3.1.0");
            w.WriteStartObject("info");
            w.WriteString("title", "Rapid job API");
            w.WriteString("version", "1");
            w.WriteString("description", front.Description);
            w.WriteEndObject();
            w.WriteStartArray("security");
            w.WriteStartObject();
            w.WriteStartArray(front.Security);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartObject("paths");
            Path(w, "/api/v1/jobs", "post", "Submit a job: 202 with its id; 422 names the input refused", "Submission",
                [("202", front.Downloads ? "accepted, queued" : "accepted, its execution started"), ("400", "malformed body"), denied,
                 ("413", $"body over {SubmissionBody.MaxBytes} bytes"), ("415", "not JSON"), ("422", "refused: the error names the input")]);
            Operation[] job =
            [
                new("get", "A submitted job: state, its job's attempts, the pipeline jobs its run made (with software and commit), exit code, reason, " +
                    (front.Downloads ? "products with links, log link" : "products with presigned S3 links, log link, the execution that runs it"), null,
                    [("200", "the job"), denied, ("404", "no such job")]),
            ];
            if (front.Cancel)
                job = [.. job, new("delete", "Cancel a queued or running job: its run (on AWS its execution) is stopped and the job fails, reason \"cancelled through the job API\"", null,
                    [("202", "cancelled"), denied, ("404", "no such job"), ("409", "the job has ended")])];
            Path(w, "/api/v1/jobs/{id}", job);
            if (front.Downloads)
            {
                Path(w, "/api/v1/jobs/{id}/products/{name}", "get", "One product of the job (a file)", null, [("200", "the file"), ("404", "no such job or product")]);
                Path(w, "/api/v1/jobs/{id}/log", "get", "The job's log", null, [("200", "text"), ("404", "no such job, or no log yet")]);
            }
            Path(w, "/api/v1/nights/{procdate}", "get", "A processing date's summary and its report " + (front.Downloads ? "link" : "(a presigned S3 link)"), null,
                [("200", "the night"), ("400", "not a yyyyMMdd date"), denied, ("404", "no jobs on that date")]);
            if (front.Downloads)
                Path(w, "/api/v1/nights/{procdate}/report", "get", "The night report (HTML)", null, [("200", "the page"), ("404", "none yet")]);
            Path(w, OpenApiPath, "get", "This document", null, [("200", "the OpenAPI document"), denied]);
            w.WriteEndObject();
            w.WriteStartObject("components");
            w.WriteStartObject("securitySchemes");
            w.WriteStartObject(front.Security);
            foreach (var (name, value) in front.SecurityScheme) w.WriteString(name, value);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("schemas");
            w.WriteStartObject("Submission");
            w.WriteStartArray("oneOf");
            foreach (var type in front.Types) Schema(w, type);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Where both fronts serve the document.</summary>
    public const string OpenApiPath = "/api/v1/openapi.json";

    private sealed record Operation(string Method, string Summary, string? Body, (string Code, string Description)[] Responses);

    private static void Path(Utf8JsonWriter w, string path, string method, string summary, string? body, (string Code, string Description)[] responses) =>
        Path(w, path, [new Operation(method, summary, body, responses)]);

    private static void Path(Utf8JsonWriter w, string path, IEnumerable<Operation> operations)
    {
        w.WriteStartObject(path);
        foreach (var operation in operations) Operate(w, path, operation);
        w.WriteEndObject();
    }

    private static void Operate(Utf8JsonWriter w, string path, Operation operation)
    {
        var (method, summary, body, responses) = operation;
        w.WriteStartObject(method);
        w.WriteString("summary", summary);
        var parameters = path.Split('/').Where(p => p.StartsWith('{')).Select(p => p.Trim('{', '}')).ToList();
        if (parameters.Count > 0)
        {
            w.WriteStartArray("parameters");
            foreach (var p in parameters)
            {
                w.WriteStartObject();
                w.WriteString("name", p);
                w.WriteString("in", "path");
                w.WriteBoolean("required", true);
                w.WriteStartObject("schema");
                w.WriteString("type", "string");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (body is not null)
        {
            w.WriteStartObject("requestBody");
            w.WriteBoolean("required", true);
            w.WriteStartObject("content");
            w.WriteStartObject("application/json");
            w.WriteStartObject("schema");
            w.WriteString("$ref", $"#/components/schemas/{body}");
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteStartObject("responses");
        foreach (var (code, description) in responses)
        {
            w.WriteStartObject(code);
            w.WriteString("description", description);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Schema(Utf8JsonWriter w, JobType type)
    {
        w.WriteStartObject();
        w.WriteString("title", type.Name);
        w.WriteString("description", type.Description);
        w.WriteString("type", "object");
        w.WriteStartArray("required");
        w.WriteStringValue("type");
        if (type.Inputs.Any(i => i.Required)) w.WriteStringValue("inputs");
        w.WriteEndArray();
        w.WriteBoolean("additionalProperties", false);
        w.WriteStartObject("properties");
        w.WriteStartObject("type");
        w.WriteString("const", type.Name);
        w.WriteEndObject();
        w.WriteStartObject("tag");
        w.WriteString("type", "string");
        w.WriteString("pattern", "^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$");
        w.WriteEndObject();
        w.WriteStartObject("inputs");
        w.WriteString("type", "object");
        w.WriteBoolean("additionalProperties", false);
        w.WriteStartArray("required");
        foreach (var input in type.Inputs.Where(i => i.Required)) w.WriteStringValue(input.Name);
        w.WriteEndArray();
        w.WriteStartObject("properties");
        foreach (var input in type.Inputs)
        {
            w.WriteStartObject(input.Name);
            w.WriteString("description", input.Kind switch
            {
                JobInputKind.File => input.Description + " (an absolute path on the server)",
                JobInputKind.ObjectUri => input.Description + $" (an s3:// URI under the stack's pipeline bucket's {DiffOnAws.InputPrefix} prefix)",
                _ => input.Description,
            });
            switch (input.Kind)
            {
                case JobInputKind.Id:
                    w.WriteString("type", "integer");
                    w.WriteNumber("minimum", 1);
                    break;
                case JobInputKind.ProcDate:
                    w.WriteString("type", "string");
                    w.WriteString("pattern", "^[0-9]{8}$");
                    break;
                case JobInputKind.Filter:
                    w.WriteString("type", "string");
                    w.WriteString("pattern", "^[A-Za-z0-9]{1,8}$");
                    break;
                case JobInputKind.File:
                    w.WriteString("type", "string");
                    break;
                case JobInputKind.ObjectUri:
                    w.WriteString("type", "string");
                    w.WriteString("pattern", "^s3://[^/]+/.+$");
                    break;
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
