using System.Reflection;
using System.Text.Json.Nodes;

namespace Rapid.Cli.AwsStandIns;

/// <summary>
/// Runs a Lambda handler the way the managed dotnet runtime does: the function's Handler string
/// <c>Assembly::Namespace.Type::Method</c> is resolved by reflection, the type is created with its
/// public parameterless constructor (so it reads the process environment, as in Lambda) and its
/// <c>Stream Method(Stream)</c> is called with the payload. Used by the local run of the deployed
/// state machine, so a wrong Handler string in the template fails there as it would in AWS.
/// </summary>
public sealed class LambdaHandlerInvoker
{
    private readonly MethodInfo _method;
    private readonly Type _type;

    public LambdaHandlerInvoker(string handler)
    {
        var parts = handler.Split("::");
        if (parts is not [var assemblyName, var typeName, var methodName] || parts.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException($"handler '{handler}' is not of the form Assembly::Namespace.Type::Method");
        Assembly assembly;
        try
        {
            assembly = Assembly.Load(assemblyName);
        }
        catch (FileNotFoundException)
        {
            throw new ArgumentException($"handler '{handler}': assembly {assemblyName} is not beside the rapid command");
        }
        _type = assembly.GetType(typeName) ?? throw new ArgumentException($"handler '{handler}': {assemblyName} has no type {typeName}");
        if (_type.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"handler '{handler}': {typeName} has no public parameterless constructor");
        _method = _type.GetMethod(methodName, BindingFlags.Public | BindingFlags.Instance, [typeof(Stream)]) is { } m && m.ReturnType == typeof(Stream)
            ? m
            : throw new ArgumentException($"handler '{handler}': {typeName} has no public Stream {methodName}(Stream)");
    }

    /// <summary>The handler's response; a handler exception comes back unwrapped, as the runtime reports it.</summary>
    public Stream Invoke(Stream payload)
    {
        var instance = Activator.CreateInstance(_type)!;
        try
        {
            return (Stream)_method.Invoke(instance, [payload])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw; // not reached
        }
    }

    /// <summary>
    /// The error document the Lambda runtime returns for an unhandled exception; Step Functions uses
    /// <c>errorType</c> (the exception's type name) as the state's Error and the message as its Cause.
    /// </summary>
    public static JsonObject ErrorDocument(Exception e) => new()
    {
        ["errorType"] = e.GetType().Name,
        ["errorMessage"] = e.Message,
    };
}
