using System.Text.Json.Nodes;
using Dapper;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;
using Rapid.Functions.Api;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// A <c>diff</c> through the AWS job API (issue 13), against a real ops database and the directory object store, with the
/// recorded HTTP API payload 2.0 sample (Events/http-api-v2-iam-post-jobs.json) and a loopback Step Functions endpoint:
/// inputs outside s3://{pipeline}/diff-inputs/, missing, not FITS or without what the science job needs are refused naming
/// the input, before anything is recorded or started; a good pair is recorded, its job config and job list written and a
/// {stack}-diff execution started with that list; the pipeline's JobRunner then runs that list as the Batch job does
/// (RAPID_JOB_LIST, array index unset), and <c>GET /api/v1/jobs/{id}</c> reads the diff from its manifest: succeeded, its
/// products and log linked by presigned URLs (fixed fake credentials; nothing calls AWS).
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class DiffSubmissionTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private const string Machine = "arn:aws:states:us-west-2:123456789012:stateMachine:Rapid-diff";
    private readonly TemporaryDirectory _files = new();
    private OpsWorld _w = null!;
    private string _science = null!;
    private string _reference = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var survey = SurveySimulator.Generate(new SurveySpec
        {
            FieldCentres = [(9.5, -44.0)], Filters = ["H158"], Epochs = 2, Size = 128, TransientsPerField = 0, Seed = 5,
        }, _files.Path);
        var images = survey.Images.OrderBy(i => i.Epoch).ToList();
        _science = images[^1].Path;
        _reference = images[0].Path;
    }

    public async Task DisposeAsync()
    {
        await _w.DisposeAsync();
        _files.Dispose();
    }

    private Dictionary<string, string> Role => new()
    {
        ["AWS_REGION"] = "us-west-2", ["AWS_ACCESS_KEY_ID"] = "ASIAEXAMPLEROLEKEY", ["AWS_SECRET_ACCESS_KEY"] = "fake/secret",
        ["AWS_SESSION_TOKEN"] = "fake-token", [SubmitJobHandler.DiffStateMachineVariable] = Machine,
    };

    private ObjectRef Input(string name) => new(_w.Keys.Buckets.Pipeline, DiffOnAws.InputPrefix + "user7/" + name);

    /// <summary>A reference image in DN/s with its coverage and uncertainty maps, made from an earlier epoch (any image with a WCS serves).</summary>
    private async Task<(string Image, string Coverage, string Uncertainty)> ReferenceAsync()
    {
        var epoch = FitsFile.ReadImage(_reference);
        var exptime = epoch.Header.GetDouble("EXPTIME")!.Value;
        string Write(string name, Func<float, float> pixel)
        {
            var path = Path.Combine(_files.Path, name);
            FitsFile.WriteImageExtension(path, new FitsHeader(), new FitsImage(epoch.Width, epoch.Height, [.. epoch.Pixels.Select(pixel)], epoch.Header.Clone()), "SCI");
            return path;
        }
        var image = Write("ref.fits", p => (float)(p / exptime));
        var coverage = Write("ref_cov.fits", _ => 4f);
        var uncertainty = Write("ref_unc.fits", _ => 0.05f);
        foreach (var (file, name) in new[] { (image, "ref.fits"), (coverage, "ref_cov.fits"), (uncertainty, "ref_unc.fits") })
            await _w.Store.PutFileAsync(Input(name), file);
        return (image, coverage, uncertainty);
    }

    private static (int Status, JsonObject Body) Call(Func<Stream, Stream> handle, string routeKey, string path, string? body, string? id = null) =>
        HandlerHost.Http(handle, routeKey, path, body, id);

    private static string Diff(string science, string image, string coverage, string uncertainty) =>
        $$"""{"type": "diff", "inputs": {"science": "{{science}}", "reference-image": "{{image}}", "reference-coverage": "{{coverage}}", "reference-uncertainty": "{{uncertainty}}"}, "tag": "mine"}""";

    [Fact]
    public async Task A_pair_under_diff_inputs_runs_as_one_science_job_and_reads_back_from_its_manifest_and_bad_inputs_are_refused_by_name()
    {
        await ReferenceAsync();
        await _w.Store.PutFileAsync(Input("science.fits"), _science);
        await _w.Store.PutBytesAsync(Input("notes.txt"), "not a FITS file"u8.ToArray());
        var noExptime = Path.Combine(_files.Path, "noexp.fits");
        var science = FitsFile.ReadImage(_science);
        var header = science.Header.Clone();
        header.Remove("EXPTIME");
        FitsFile.WriteImageExtension(noExptime, new FitsHeader(), new FitsImage(science.Width, science.Height, science.Pixels, header), "SCI");
        await _w.Store.PutFileAsync(Input("noexp.fits"), noExptime);
        await _w.Store.PutFileAsync(new ObjectRef(_w.Keys.Buckets.Data, "l2/science.fits"), _science);
        var (good, image, coverage, uncertainty) = (Input("science.fits").ToString(), Input("ref.fits").ToString(), Input("ref_cov.fits").ToString(), Input("ref_unc.fits").ToString());
        var stepFunctions = LoopbackHttpServer.AnswerOnce(_ =>
            (200, """{"executionArn": "arn:aws:states:us-west-2:123456789012:execution:Rapid-diff:job1-diff", "startDate": 1.8e9}"""));
        // The stack names a settings profile: the diff runs with it, as the night's jobs do.
        var profile = new ObjectRef(_w.Keys.Buckets.Pipeline, "settings/deep.json");
        await _w.Store.PutBytesAsync(profile, """{ "schemaVersion": 1, "name": "deep", "settings": { "detectionThresholdSigma": 4.5 } }"""u8.ToArray());
        var submit = new SubmitJobHandler(HandlerHost.EnvironmentOf(_w, new(Role)
        {
            [StepFunctionsClient.EndpointVariable] = stepFunctions.Endpoint.ToString(), [LambdaEnvironment.SettingsProfileVariable] = profile.ToString(),
        })).Handle;

        (int, string?, string) Refused(string body)
        {
            var (status, answer) = Call(submit, "POST /api/v1/jobs", "/api/v1/jobs", body);
            return (status, answer["input"]?.GetValue<string>(), answer["error"]!.GetValue<string>());
        }
        var outside = Refused(Diff($"s3://{_w.Keys.Buckets.Data}/l2/science.fits", image, coverage, uncertainty));
        var missing = Refused(Diff(good, Input("nothing.fits").ToString(), coverage, uncertainty));
        var notFits = Refused(Diff(good, image, Input("notes.txt").ToString(), uncertainty));
        var noExposure = Refused(Diff(Input("noexp.fits").ToString(), image, coverage, uncertainty));
        var notUri = Refused(Diff(good, image, coverage, "/home/me/unc.fits"));
        var dotted = Refused(Diff(good, image, coverage, $"s3://{_w.Keys.Buckets.Pipeline}/{DiffOnAws.InputPrefix}../2028/x.fits"));

        Assert.Equal((422, "science", $"input 'science': s3://{_w.Keys.Buckets.Data}/l2/science.fits is outside s3://{_w.Keys.Buckets.Pipeline}/diff-inputs/ (the objects a diff may read; upload its files there)"), outside);
        Assert.Equal((422, "reference-image", $"input 'reference-image': {Input("nothing.fits")}: no such object"), missing);
        Assert.Equal((422, "reference-coverage"), (notFits.Item1, notFits.Item2));
        Assert.StartsWith($"input 'reference-coverage': {Input("notes.txt")}: ", notFits.Item3, StringComparison.Ordinal);
        Assert.Equal((422, "science", $"input 'science': {Input("noexp.fits")}: EXPTIME is missing (needed to turn DN into DN/s)"), noExposure);
        Assert.Equal((422, "reference-uncertainty", "input 'reference-uncertainty': '/home/me/unc.fits' is not an object URI (s3://bucket/key)"), notUri);
        Assert.Equal((422, "reference-uncertainty"), (dotted.Item1, dotted.Item2));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.QuerySingleAsync<int>("select count(*)::int from submissions"));
        Assert.False(stepFunctions.Received.IsCompleted);

        var (status, accepted) = Call(submit, "POST /api/v1/jobs", "/api/v1/jobs", Diff(good, image, coverage, uncertainty));

        Assert.Equal(202, status);
        var id = accepted["id"]!.GetValue<long>();
        var start = JsonNode.Parse((await stepFunctions.Received).Body)!;
        Assert.Equal(Machine, start["stateMachineArn"]!.GetValue<string>());
        Assert.Equal($"job{id}-diff", start["name"]!.GetValue<string>());
        var input = JsonNode.Parse(start["input"]!.GetValue<string>())!;
        Assert.Equal(("diff", good, "mine"), (input["submission"]!["type"]!.GetValue<string>(), input["submission"]!["inputs"]!["science"]!.GetValue<string>(), input["tag"]!.GetValue<string>()));
        var jobList = ObjectRef.Parse(input["jobList"]!.GetValue<string>());
        var list = await Contract.ReadAsync<JobList>(_w.Store, jobList);
        var entry = Assert.Single(list.Jobs);
        // The job id is reserved from the jobs sequence: no survey job has it, and none will.
        Assert.Equal(0, await conn.QuerySingleAsync<int>("select count(*)::int from jobs where jid = @jid", new { jid = entry.Jid }));
        Assert.Equal(_w.Keys.JobConfig(Rapid.Core.Jobs.ProcessingDate.Parse(list.ProcDate), entry.Jid), entry.Config);
        var config = await Contract.ReadAsync<JobConfig>(_w.Store, entry.Config);
        Assert.Equal(("deep", 4.5), (config.SettingsProfile, config.Settings.DetectionThresholdSigma));
        var spec = Assert.IsType<ScienceSpec>(config.Spec);
        Assert.Equal((Input("science.fits"), 0L, 0L, Input("ref.fits")), (spec.Science.File, spec.Science.Rid, spec.Reference.Rfid!.Value, spec.Reference.Image!));
        var recorded = await conn.QuerySingleAsync<(string State, string OutDir, DateOnly ProcDate)>("select state, outdir, procdate from submissions where subid = @id", new { id });
        Assert.Equal("running", recorded.State);
        Assert.Equal($"s3://{_w.Keys.Buckets.Products}/{list.ProcDate}/jid{entry.Jid}/", recorded.OutDir);
        var read = new ReadJobsHandler(HandlerHost.EnvironmentOf(_w, Role)).Handle;
        Assert.Equal("running", Call(read, ReadJobsHandler.JobRoute, $"/api/v1/jobs/{id}", null, id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Body["state"]!.GetValue<string>());

        // The Batch job: the pipeline image's JobRunner on that list, as {stack}-diff starts it (one job, no array index).
        var environment = new BatchEnvironment(jobList, 0, "batch-job-1", 1, _w.Keys.Buckets, _w.StoreRoot).AsEnvironment()
            .Where(kv => kv.Key != BatchEnvironment.ArrayIndexVariable).ToDictionary();
        var exit = await new Rapid.Pipeline.Jobs.JobRunner(environment.GetValueOrDefault, TextWriter.Null, TextWriter.Null).RunAsync();

        Assert.Equal(0, Rapid.Core.Jobs.ExitCodes.ProcessExitCode(exit));
        var (_, job) = Call(read, ReadJobsHandler.JobRoute, $"/api/v1/jobs/{id}", null, id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        Assert.Equal(exit, job["exitCode"]!.GetValue<int>());
        var products = job["products"]!.AsArray().Select(p => p!).ToDictionary(p => p["name"]!.GetValue<string>());
        Assert.Contains(ProductRoles.DifferenceImage, products.Keys);
        Assert.All(products.Values, p =>
        {
            var obj = ObjectRef.Parse(p["uri"]!.GetValue<string>());
            Assert.StartsWith(recorded.OutDir, obj.ToString(), StringComparison.Ordinal);
            Assert.True(_w.Store.ExistsAsync(obj).Result);
            Assert.StartsWith($"https://{obj.Bucket}.s3.us-west-2.amazonaws.com/{obj.Key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&", p["href"]!.GetValue<string>(), StringComparison.Ordinal);
        });
        var log = _w.Keys.Log(Rapid.Core.Jobs.ProcessingDate.Parse(list.ProcDate), entry.Jid);
        Assert.True(await _w.Store.ExistsAsync(log));
        Assert.StartsWith($"https://{log.Bucket}.s3.us-west-2.amazonaws.com/{log.Key}?", job["log"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
