using Rapid.LambdaRuntimeHost;

// Started as the dotnet10 runtime's bootstrap starts Amazon.Lambda.RuntimeSupport.dll:
//   dotnet exec --depsfile $LAMBDA_TASK_ROOT/<asm>.deps.json --runtimeconfig $LAMBDA_TASK_ROOT/<asm>.runtimeconfig.json \
//     Rapid.LambdaRuntimeHost.dll <handler>
// The handler comes from the command line, else from _HANDLER; the Runtime API from AWS_LAMBDA_RUNTIME_API.
// Initialisation errors are reported to /runtime/init/error and end the process, as the runtime does;
// a handler's exception is reported for its invocation and the loop goes on to the next one.
var handlerText = args.Length > 0 && args[0].Length > 0 ? args[0] : Environment.GetEnvironmentVariable("_HANDLER");
if (Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API") is not { Length: > 0 } runtimeApi)
{
    Console.Error.WriteLine("Rapid.LambdaRuntimeHost: AWS_LAMBDA_RUNTIME_API is not set: this process is started by a Lambda service");
    return 2;
}

using var client = new RuntimeApiClient(runtimeApi);
Func<Stream, Task<Stream?>> handler;
try
{
    handler = HandlerLoader.Load(HandlerString.Parse(handlerText));
}
catch (Exception e)
{
    Console.Error.WriteLine($"Rapid.LambdaRuntimeHost: initialisation failed: {e}");
    await client.ReportInitializationErrorAsync(e);
    return 1;
}

while (true)
{
    Invocation invocation;
    try
    {
        invocation = await client.NextAsync();
    }
    catch (HttpRequestException)
    {
        return 0; // the service went away: the execution environment is being shut down
    }
    Stream? output;
    try
    {
        output = await handler(new MemoryStream(invocation.Event, writable: false));
    }
    catch (Exception e)
    {
        Console.Error.WriteLine(e);
        await client.ReportInvocationErrorAsync(invocation.RequestId, e);
        continue;
    }
    await using (output)
        await client.RespondAsync(invocation.RequestId, output);
}
