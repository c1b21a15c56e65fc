using System.Text.Json.Nodes;
using Rapid.Functions.Lambda;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// The ingest λ's StartExecution call: SigV4 against independent references (AWS's published "get-vanilla" test vector,
/// and a StartExecution request signed by the JavaScript SDK's signer, @smithy/signature-v4 from npm), and the client
/// against a loopback server answering as the Step Functions API Reference documents (200, 400 ExecutionAlreadyExists,
/// 400 AccessDeniedException).
/// </summary>
public sealed class StepFunctionsClientTests
{
    private static readonly AwsCredentials Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
    private static readonly DateTimeOffset At = new(2028, 9, 8, 6, 12, 44, TimeSpan.Zero);
    private const string Machine = "arn:aws:states:us-west-2:123456789012:stateMachine:Rapid-prompt";

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void The_signature_of_AWSs_get_vanilla_test_vector_is_reproduced()
    {
        var headers = SigV4.Sign("GET", "example.amazonaws.com", "/", new Dictionary<string, string>(), "", Example, "us-east-1", "service",
            new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));

        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
                     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", headers["authorization"]);
        Assert.Equal("20150830T123600Z", headers["x-amz-date"]);
    }

    [Fact]
    public void A_StartExecution_request_is_signed_as_the_JavaScript_SDK_signs_it()
    {
        var headers = SigV4.Sign("POST", "states.us-west-2.amazonaws.com", "/",
            new Dictionary<string, string> { ["Content-Type"] = "application/x-amz-json-1.0", ["X-Amz-Target"] = "AWSStepFunctions.StartExecution" },
            $$"""{"stateMachineArn":"{{Machine}}","name":"l2-rid7-v1","input":"{}"}""", Example with { SessionToken = "TOKEN" }, "us-west-2", "states", At);

        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20280908/us-west-2/states/aws4_request, " +
                     "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, " +
                     "Signature=b90de2a819d1880144caea9a82bd4274030ee74ff4cba940463a8b4174662b97", headers["authorization"]);
        Assert.Equal("TOKEN", headers["x-amz-security-token"]);
    }

    [Fact]
    public async Task A_started_execution_is_named_and_its_arn_returned()
    {
        var server = LoopbackHttpServer.AnswerOnce(_ => (200, """{"executionArn": "arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:rid7-v1", "startDate": 1.8e9}"""));
        var started = await Client(server).StartExecutionAsync(new StartExecutionRequest(Machine, "rid7-v1", """{"startDateTime":"x"}"""));

        Assert.Equal(new ExecutionStart("arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:rid7-v1", false), started);
        var request = await server.Received;
        Assert.Equal(("POST", "/"), (request.Method, request.Target));
        Assert.Equal("AWSStepFunctions.StartExecution", request.Headers["X-Amz-Target"]);
        Assert.Equal("application/x-amz-json-1.0", request.Headers["Content-Type"]);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20280908/us-west-2/states/aws4_request", request.Headers["Authorization"]);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal((Machine, "rid7-v1", """{"startDateTime":"x"}"""),
            (body["stateMachineArn"]!.GetValue<string>(), body["name"]!.GetValue<string>(), body["input"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_execution_of_that_name_already_is_a_start_made_before_not_an_error()
    {
        var server = LoopbackHttpServer.AnswerOnce(_ => (400, """{"__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists", "message": "Execution Already Exists: 'rid7-v1'"}"""));
        var started = await Client(server).StartExecutionAsync(new StartExecutionRequest(Machine, "rid7-v1", "{}"));

        Assert.Equal(new ExecutionStart("arn:aws:states:us-west-2:123456789012:execution:Rapid-prompt:rid7-v1", true), started);
    }

    [Fact]
    public async Task Any_other_error_fails_naming_its_type_and_the_execution()
    {
        var server = LoopbackHttpServer.AnswerOnce(_ => (400, """{"__type": "AccessDeniedException", "message": "not authorized to perform states:StartExecution"}"""));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => Client(server).StartExecutionAsync(new StartExecutionRequest(Machine, "rid7-v1", "{}")));

        Assert.Contains("AccessDeniedException", e.Message);
        Assert.Contains("rid7-v1", e.Message);
        Assert.DoesNotContain(Example.SecretAccessKey, e.Message);
    }

    private static StepFunctionsClient Client(LoopbackHttpServer server) =>
        new(new HttpClient(), server.Endpoint, "us-west-2", () => Example, new FixedClock(At));
}
