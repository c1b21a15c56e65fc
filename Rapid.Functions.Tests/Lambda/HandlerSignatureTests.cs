using System.Reflection;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// The managed dotnet runtime loads <c>Rapid.Functions::Rapid.Functions.Lambda.{Name}Handler::Handle</c>
/// (the names Rapid.Cdk's OperationsFunctions uses): a public type with a public parameterless
/// constructor and a public instance <c>Stream Handle(Stream)</c>, which needs no serializer package.
/// </summary>
public sealed class HandlerSignatureTests
{
    [Theory]
    [InlineData("ResolveWindow")]
    [InlineData("PlanReferences")]
    [InlineData("PlanScience")]
    [InlineData("PlanPostProc")]
    [InlineData("PlanNightRecovery")]
    [InlineData("Register")]
    [InlineData("RegisterStream")]
    [InlineData("Summarize")]
    [InlineData("Migrate")]
    public void Each_handler_has_the_signature_the_runtime_calls(string name)
    {
        var type = typeof(Rapid.Functions.Lambda.LambdaEnvironment).Assembly.GetType($"Rapid.Functions.Lambda.{name}Handler");

        Assert.NotNull(type);
        Assert.True(type.IsPublic);
        Assert.NotNull(type.GetConstructor(Type.EmptyTypes));
        var handle = type.GetMethod("Handle", BindingFlags.Public | BindingFlags.Instance, [typeof(Stream)]);
        Assert.NotNull(handle);
        Assert.Equal(typeof(Stream), handle.ReturnType);
    }
}
