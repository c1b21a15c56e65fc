using Rapid.Cli.Commands;

namespace Rapid.Cli.Tests.Support;

/// <summary>
/// Runs the command line with stdout and stderr captured. Console redirection is process-wide, so the classes
/// that use it share a collection that xunit runs on its own, after the parallel ones.
/// </summary>
public static class ConsoleCapture
{
    // Console.Out/Error are process-wide: one invocation at a time, also from classes outside the collection.
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task<(int Code, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        await Gate.WaitAsync();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await RapidCommandLine.InvokeAsync(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
            Gate.Release();
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCaptureCollection
{
    public const string Name = "captured console";
}
