using Rapid.Cli.Commands;

namespace Rapid.Cli.Tests.Support;

/// <summary>Runs the <c>rapid</c> command line in-process with its standard output and error captured.</summary>
public static class RapidCli
{
    // Console.Out/Error are process-wide: one invocation at a time.
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
            var code = await RapidCommandLine.Create().Parse(args).InvokeAsync();
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
