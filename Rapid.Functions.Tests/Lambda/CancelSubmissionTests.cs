using System.Text.Json.Nodes;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// The AWS job API's <c>DELETE /api/v1/jobs/{id}</c> (SubmitJob λ) against a real ops database, with the recorded HTTP API
/// payload 2.0 sample and a loopback Step Functions endpoint answering StopExecution as its API Reference documents: a running
/// submission's execution is stopped (signed awsJson1_0 StopExecution naming it) and the submission fails with the reason;
/// an ended one answers 409, an unknown one 404, and neither calls Step Functions.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class CancelSubmissionTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public Task DisposeAsync() => _w.DisposeAsync().AsTask();

    private static (int Status, JsonObject Body) Delete(Func<Stream, Stream> handle, string id) =>
        HandlerHost.Http(handle, SubmitJobHandler.CancelRoute, $"/api/v1/jobs/{id}", id: id);

    [Fact]
    public async Task A_running_job_s_execution_is_stopped_and_the_job_fails_while_ended_and_unknown_jobs_are_refused()
    {
        const string execution = "arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:job1-postprocessing-20280907";
        var submissions = new Submissions(_w.DataSource);
        var (id, _) = await submissions.SubmitAsync(JobTypes.PostProcessing.Validate(new Dictionary<string, string?> { ["procdate"] = "20280907" }), null);
        await submissions.StartedAsync(id, execution);
        var stepFunctions = LoopbackHttpServer.AnswerOnce(_ => (200, """{"stopDate": 1.8e9}"""));
        var handle = new SubmitJobHandler(HandlerHost.EnvironmentOf(_w, new()
        {
            ["AWS_REGION"] = "us-west-2", ["AWS_ACCESS_KEY_ID"] = "ASIAEXAMPLEROLEKEY", ["AWS_SECRET_ACCESS_KEY"] = "fake/secret",
            [StepFunctionsClient.EndpointVariable] = stepFunctions.Endpoint.ToString(),
        })).Handle;
        var text = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (status, answer) = Delete(handle, text);

        Assert.Equal(202, status);
        Assert.Equal("failed", answer["state"]!.GetValue<string>());
        var stop = await stepFunctions.Received;
        Assert.Equal("AWSStepFunctions.StopExecution", stop.Headers["X-Amz-Target"]);
        Assert.Contains("/us-west-2/states/aws4_request", stop.Headers["Authorization"]);
        var body = JsonNode.Parse(stop.Body)!;
        Assert.Equal((execution, "Cancelled"), (body["executionArn"]!.GetValue<string>(), body["error"]!.GetValue<string>()));
        var row = (await submissions.GetAsync(id))!;
        Assert.Equal(("failed", "cancelled through the job API (execution job1-postprocessing-20280907 stopped)"), (row.State, row.Reason));
        Assert.NotNull(row.Ended);

        // The stopped execution's status change later fails nothing more (CloseExecution closes only open submissions).
        Assert.Equal(0, await submissions.ExecutionEndedAsync(execution, "execution job1-postprocessing-20280907 was stopped"));
        var again = Delete(handle, text);
        Assert.Equal(409, again.Status);
        Assert.Equal($"job {id} has ended (failed): there is nothing to cancel", again.Body["error"]!.GetValue<string>());
        Assert.Equal(404, Delete(handle, "999999").Status);
    }
}
