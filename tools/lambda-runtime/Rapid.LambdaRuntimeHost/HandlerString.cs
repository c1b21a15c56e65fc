using System.Reflection;

namespace Rapid.LambdaRuntimeHost;

/// <summary>
/// A Lambda handler string, <c>Assembly::Namespace.Type::Method</c>, split as the managed runtime
/// splits it (Amazon.Lambda.RuntimeSupport's HandlerInfo): at most three parts on <c>::</c>, each
/// trimmed and none empty. The method part is a method name or a full signature such as
/// <c>System.IO.Stream Handle(System.IO.Stream)</c>.
/// </summary>
public sealed record HandlerString(AssemblyName AssemblyName, string TypeName, string MethodName)
{
    public const string Separator = "::";

    public static HandlerString Parse(string? handler)
    {
        if (string.IsNullOrEmpty(handler))
            throw new LambdaValidationException($"Empty lambda function handler. The valid format is 'ASSEMBLY{Separator}TYPE{Separator}METHOD'.");
        var parts = handler.Split(Separator, 3);
        if (parts.Length != 3)
            throw new LambdaValidationException($"Invalid lambda function handler: '{handler}'. The valid format is 'ASSEMBLY{Separator}TYPE{Separator}METHOD'.");
        string Part(int i, string what) => parts[i].Trim() is { Length: > 0 } part ? part
            : throw new LambdaValidationException($"Invalid lambda function handler: '{handler}', the {what} is missing. The valid format is 'ASSEMBLY{Separator}TYPE{Separator}METHOD'.");
        return new HandlerString(new AssemblyName(Part(0, "assembly")), Part(1, "type"), Part(2, "method"));
    }
}
