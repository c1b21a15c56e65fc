using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.StepFunctions;
using Amazon.CDK.AWS.StepFunctions.Tasks;
using Constructs;
using Timeout = Amazon.CDK.AWS.StepFunctions.Timeout;

namespace Rapid.Cdk.Workflow;

/// <summary>Lambda tasks of the workflow: payload in, payload out, retried on Lambda service errors.</summary>
internal static class LambdaStep
{
    /// <summary>
    /// Invokes <paramref name="function"/> with the state at <paramref name="inputPath"/> (or with
    /// <paramref name="payload"/> when given) and puts its response at <paramref name="resultPath"/>.
    /// </summary>
    public static LambdaInvoke Invoke(Construct scope, string id, IFunction function, string resultPath, Duration timeout,
        string? inputPath = null, TaskInput? payload = null)
    {
        var task = new LambdaInvoke(scope, id, new LambdaInvokeProps
        {
            LambdaFunction = function,
            InputPath = inputPath,
            Payload = payload,
            PayloadResponseOnly = true,
            RetryOnServiceExceptions = false,
            ResultPath = resultPath,
            TaskTimeout = Timeout.Duration(timeout),
        });
        // Errors of the Lambda service, never of the handler: a handler error is a real failure.
        task.AddRetry(new RetryProps
        {
            Errors =
            [
                "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException", "Lambda.ClientExecutionTimeoutException",
            ],
            Interval = Duration.Seconds(2),
            BackoffRate = 2,
            MaxAttempts = 6,
            JitterStrategy = JitterType.FULL,
        });
        return task;
    }

    /// <summary>The state's timeout: the function's own timeout plus a minute of slack for a cold start.</summary>
    public static Duration StateTimeout(this IFunction function) =>
        Duration.Seconds(((function as Function)?.Timeout?.ToSeconds() ?? 900) + 60);
}
