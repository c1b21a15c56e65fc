using Amazon.CDK;
using Amazon.CDK.AWS.Apigatewayv2;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AwsApigatewayv2Authorizers;
using Amazon.CDK.AwsApigatewayv2Integrations;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// The job API on AWS: the routes of <c>rapid serve</c> as an API Gateway HTTP API whose every route needs IAM authorization
/// (SigV4-signed requests of principals allowed execute-api:Invoke on it; no route is open), in front of two λs with the
/// payload format 2.0: SubmitJob (<c>POST /api/v1/jobs</c>: records the submission, may start executions of the nightly, the
/// prompt and the diff machines and of no other; <c>DELETE /api/v1/jobs/{id}</c>: stops such an execution) and ReadJobs (<c>GET /api/v1/jobs/{id}</c>, <c>GET /api/v1/nights/{procdate}</c>: reads
/// the ops database). The one stage logs every request (JSON, the request id, caller, route, status) to its own log group and
/// is throttled, so a runaway client cannot start executions without bound.
/// </summary>
public sealed class JobApi : Construct
{
    /// <summary>Rapid.Functions.Lambda.SubmitJobHandler.NightlyStateMachineVariable.</summary>
    public const string NightlyStateMachineVariable = "RAPID_NIGHTLY_STATE_MACHINE_ARN";

    /// <summary>Rapid.Functions.Lambda.SubmitJobHandler.PromptStateMachineVariable.</summary>
    public const string PromptStateMachineVariable = "RAPID_PROMPT_STATE_MACHINE_ARN";

    /// <summary>Rapid.Functions.Lambda.SubmitJobHandler.DiffStateMachineVariable.</summary>
    public const string DiffStateMachineVariable = "RAPID_DIFF_STATE_MACHINE_ARN";

    /// <summary>Steady requests per second and burst of the stage (a job API for operators, not a public service).</summary>
    public const double RateLimit = 10;
    public const int BurstLimit = 20;

    /// <summary>The access log's line: API Gateway's $context variables.</summary>
    public const string AccessLogFormat =
        """{"requestId":"$context.requestId","caller":"$context.identity.userArn","ip":"$context.identity.sourceIp","time":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}""";

    public HttpApi Api { get; }
    public LogGroup AccessLogs { get; }

    public JobApi(Construct scope, string id, RapidSettings settings, OperationsFunctions functions, IStateMachine nightly, IStateMachine prompt,
        IStateMachine diff)
        : base(scope, id)
    {
        Api = new HttpApi(this, "Http", new HttpApiProps
        {
            ApiName = $"{Stack.Of(this).StackName}-jobs",
            Description = "Rapid job API (IAM-authorized): POST /api/v1/jobs, GET and DELETE /api/v1/jobs/{id}, GET /api/v1/nights/{procdate}, GET /api/v1/openapi.json",
            CreateDefaultStage = false,
            DefaultAuthorizer = new HttpIamAuthorizer(),
        });
        AccessLogs = new LogGroup(this, "AccessLogs", new LogGroupProps
        {
            Retention = BatchCompute.RetentionFor(settings.Storage.LogRetentionDays),
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var stage = Api.AddStage("Stage", new HttpStageOptions
        {
            StageName = "$default",
            AutoDeploy = true,
            Throttle = new ThrottleSettings { RateLimit = RateLimit, BurstLimit = BurstLimit },
        });
        // The stage's access log (CloudFormation's AccessLogSettings; the L2 construct's option is a jsii interface without a
        // data class in .NET): one JSON line per request, with who called (the IAM principal) and what it answered.
        ((CfnStage)stage.Node.DefaultChild!).AccessLogSettings = new CfnStage.AccessLogSettingsProperty
        {
            DestinationArn = AccessLogs.LogGroupArn,
            Format = AccessLogFormat,
        };
        var submit = new HttpLambdaIntegration("SubmitJob", functions.SubmitJob);
        var read = new HttpLambdaIntegration("ReadJobs", functions.ReadJobs);
        Api.AddRoutes(new AddRoutesOptions { Path = "/api/v1/jobs", Methods = [Amazon.CDK.AWS.Apigatewayv2.HttpMethod.POST], Integration = submit });
        Api.AddRoutes(new AddRoutesOptions { Path = "/api/v1/jobs/{id}", Methods = [Amazon.CDK.AWS.Apigatewayv2.HttpMethod.GET], Integration = read });
        Api.AddRoutes(new AddRoutesOptions { Path = "/api/v1/jobs/{id}", Methods = [Amazon.CDK.AWS.Apigatewayv2.HttpMethod.DELETE], Integration = submit });
        Api.AddRoutes(new AddRoutesOptions { Path = "/api/v1/nights/{procdate}", Methods = [Amazon.CDK.AWS.Apigatewayv2.HttpMethod.GET], Integration = read });
        Api.AddRoutes(new AddRoutesOptions { Path = "/api/v1/openapi.json", Methods = [Amazon.CDK.AWS.Apigatewayv2.HttpMethod.GET], Integration = read });

        // SubmitJob starts executions of these three machines and of no other (states:StartExecution on their ARNs only).
        functions.SubmitJob.AddEnvironment(NightlyStateMachineVariable, nightly.StateMachineArn);
        functions.SubmitJob.AddEnvironment(PromptStateMachineVariable, prompt.StateMachineArn);
        functions.SubmitJob.AddEnvironment(DiffStateMachineVariable, diff.StateMachineArn);
        nightly.GrantStartExecution(functions.SubmitJob);
        prompt.GrantStartExecution(functions.SubmitJob);
        diff.GrantStartExecution(functions.SubmitJob);
        // DELETE /api/v1/jobs/{id} stops a submission's execution: states:StopExecution on the executions of these machines only.
        foreach (var machine in new[] { nightly, prompt, diff })
            machine.GrantExecution(functions.SubmitJob, "states:StopExecution");
    }

    /// <summary>The API's URL (the $default stage).</summary>
    public string Url => Api.ApiEndpoint + "/";
}
