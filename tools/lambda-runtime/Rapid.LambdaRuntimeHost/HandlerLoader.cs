using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace Rapid.LambdaRuntimeHost;

/// <summary>
/// Loads the function's handler as the managed runtime's UserCodeLoader does, and only what it can
/// call without a serializer package (none is in this process, as none is in Rapid.Functions):
/// <list type="bullet">
/// <item>the assembly is loaded <em>by name</em> into the default load context, so it resolves only
/// through the function's deps.json given to <c>dotnet exec --depsfile</c>;</item>
/// <item>the method is looked up by name (any visibility, instance or static, declared on the type
/// or a base type), then by its full signature; an overloaded name is an error;</item>
/// <item>the input is a <see cref="Stream"/> or nothing, the result a <see cref="Stream"/>, a
/// <see cref="Task{Stream}"/>, a <see cref="Task"/> or void: any other type needs a serializer;</item>
/// <item>an instance method's type is created once, at initialisation (its constructor's
/// exceptions are initialisation errors), with its parameterless constructor; a static method's
/// type has its static constructor run then.</item>
/// </list>
/// </summary>
public static class HandlerLoader
{
    private const BindingFlags Lookup = BindingFlags.DeclaredOnly | BindingFlags.Public | BindingFlags.NonPublic
        | BindingFlags.Instance | BindingFlags.Static;

    public static Func<Stream, Task<Stream?>> Load(HandlerString handler)
    {
        Assembly assembly;
        try
        {
            assembly = AssemblyLoadContext.Default.LoadFromAssemblyName(handler.AssemblyName);
        }
        catch (FileNotFoundException e)
        {
            throw new LambdaValidationException(
                $"Could not find the specified handler assembly with the file name '{e.FileName ?? handler.AssemblyName.Name}'. The assembly should be located in the root of your uploaded .zip file.", e);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException)
        {
            throw new LambdaValidationException($"Unable to load assembly '{handler.AssemblyName}': {e.Message}", e);
        }

        var type = assembly.GetType(handler.TypeName)
            ?? throw new LambdaValidationException($"Unable to load type '{handler.TypeName}' from assembly '{handler.AssemblyName.Name}'.");
        var method = FindByName(type, handler.MethodName) ?? FindBySignature(type, handler.MethodName)
            ?? throw new LambdaValidationException(
                $"Unable to find method '{handler.MethodName}' in type '{handler.TypeName}' from assembly '{handler.AssemblyName.Name}': Found no methods matching method name '{handler.MethodName}'.");
        Validate(type, method);

        object? target = null;
        if (method.IsStatic)
            RuntimeHelpers.RunClassConstructor(type.TypeHandle);
        else
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
                throw new LambdaValidationException($"Class '{type.FullName}' does not have a parameterless constructor.");
            target = Activator.CreateInstance(type);
        }

        var takesInput = method.GetParameters().Length == 1;
        return async input =>
        {
            var result = method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, takesInput ? [input] : [], null);
            switch (result)
            {
                case Task<Stream> streamTask:
                    return await streamTask;
                case Task task:
                    await task;
                    return null;
                default:
                    return (Stream?)result;
            }
        };
    }

    private static MethodInfo? FindByName(Type? type, string name)
    {
        for (; type is not null; type = type.BaseType)
        {
            var matches = type.GetMethods(Lookup).Where(m => m.Name == name).ToList();
            if (matches.Count > 1)
                throw new LambdaValidationException(
                    $"The method '{name}' in type '{type.FullName}' appears to be overloaded: {string.Join("; ", matches)}. Specify the full signature of the method in the handler.");
            if (matches.Count == 1) return matches[0];
        }
        return null;
    }

    private static MethodInfo? FindBySignature(Type? type, string signature)
    {
        for (; type is not null; type = type.BaseType)
            if (type.GetMethods(Lookup).SingleOrDefault(m => m.ToString() == signature) is { } match)
                return match;
        return null;
    }

    private static void Validate(Type type, MethodInfo method)
    {
        if (type.IsAbstract && !method.IsStatic)
            throw new LambdaValidationException($"Handler method '{method}' is an instance method of the abstract type '{type.FullName}'.");
        if (method.IsGenericMethodDefinition || type.ContainsGenericParameters)
            throw new LambdaValidationException($"Handler method '{method}' or its type '{type.FullName}' is generic.");
        var parameters = method.GetParameters();
        if (parameters.Length > 1)
            throw new LambdaValidationException(
                $"Handler method '{method}' has {parameters.Length} parameters: this runtime host calls (Stream) or () handlers only (an ILambdaContext parameter needs Amazon.Lambda.Core, which the function does not reference).");
        if (parameters.Length == 1 && parameters[0].ParameterType != typeof(Stream))
            throw new LambdaValidationException(
                $"Handler method '{method}' takes {parameters[0].ParameterType}: anything but System.IO.Stream needs a serializer (LambdaSerializerAttribute), which the function does not declare.");
        var result = method.ReturnType;
        if (result != typeof(void) && result != typeof(Stream) && result != typeof(Task) && result != typeof(Task<Stream>))
            throw new LambdaValidationException(
                $"Handler method '{method}' returns {result}: anything but System.IO.Stream, Task, Task<Stream> or void needs a serializer, which the function does not declare.");
    }
}
