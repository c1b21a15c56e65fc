using System.ComponentModel;
using System.Diagnostics;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// The build stage of pipeline-image/Dockerfile without Docker (no engine runs here): the sources
/// its COPY instructions name are copied (without bin/obj, as the asset's excludes leave them out)
/// into a temporary build context, and its own <c>RUN dotnet publish ...</c> runs there with only
/// <c>--output</c> moved to a temporary directory (and <c>--nologo</c>). Restore works offline from
/// the NuGet cache the test build already filled. The build arguments are those the stack's image
/// asset passes (as <c>docker build --build-arg</c>). Published once per test class (it takes ~20 s).
/// </summary>
public sealed class PublishedPipelineImage : IDisposable
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("rapid-pipeline-image-");
    private readonly object _gate = new();
    private bool _published;

    public DockerfileInstructions Dockerfile { get; } = new(Path.Combine(RepositoryRoot.Find(), "pipeline-image", "Dockerfile"));
    /// <summary>The publish output: what the runtime stage copies to the image's /app.</summary>
    public string OutputDirectory => Path.Combine(_work.FullName, "app");
    /// <summary>The Dockerfile's ENTRYPOINT executable, mapped from the image's output directory to <see cref="OutputDirectory"/>.</summary>
    public string EntryPoint { get; private set; } = "";
    /// <summary>The arguments the publish ran with (the Dockerfile's, build arguments expanded, output moved).</summary>
    public IReadOnlyList<string> PublishArguments { get; private set; } = [];
    public TimeSpan PublishDuration { get; private set; }

    /// <summary>Runs the build stage once, with <paramref name="buildArguments"/> (the image asset's).</summary>
    public void Publish(IReadOnlyDictionary<string, string> buildArguments)
    {
        lock (_gate)
        {
            if (_published) return;
            PublishOnce(buildArguments);
            _published = true;
        }
    }

    private void PublishOnce(IReadOnlyDictionary<string, string> buildArguments)
    {
        var root = RepositoryRoot.Find();
        var context = _work.CreateSubdirectory("src").FullName;

        foreach (var (source, destination) in Dockerfile.ContextCopies())
            CopyFromContext(root, source, context, destination);

        var arguments = Dockerfile.PublishArguments(buildArguments).ToList();
        var output = arguments.FindIndex(a => a is "--output" or "-o");
        if (output < 0 || output + 1 >= arguments.Count)
            throw new InvalidDataException($"{Dockerfile.Path}: the dotnet publish has no '--output <dir>'; the entry point cannot be located");
        var imageOutput = arguments[output + 1].TrimEnd('/');
        arguments[output + 1] = OutputDirectory;
        arguments.Add("--nologo");
        PublishArguments = arguments;

        var entryPoint = Dockerfile.EntryPointExecutable;
        if (!entryPoint.StartsWith(imageOutput + "/", StringComparison.Ordinal))
            throw new InvalidDataException($"{Dockerfile.Path}: ENTRYPOINT {entryPoint} is not in the publish output {imageOutput}");
        EntryPoint = Path.Combine(OutputDirectory, entryPoint[(imageOutput.Length + 1)..]);

        var clock = Stopwatch.StartNew();
        var (exit, log) = Run(context, arguments);
        PublishDuration = clock.Elapsed;
        if (exit != 0)
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} (the Dockerfile's publish) exited {exit}:\n{log}");
        if (!File.Exists(EntryPoint))
            throw new InvalidOperationException($"the publish did not produce the ENTRYPOINT {entryPoint} (looked for {EntryPoint})");
    }

    /// <summary>Docker's COPY of a context path: a directory's contents go into the destination directory.</summary>
    private static void CopyFromContext(string root, string source, string context, string destination)
    {
        if (Path.IsPathRooted(destination))
            throw new InvalidDataException($"COPY {source} {destination}: an absolute destination is not followed here; use a path relative to WORKDIR");
        var from = Path.Combine(root, source.TrimEnd('/'));
        var to = Path.Combine(context, destination);
        if (File.Exists(from))
        {
            var target = destination.EndsWith('/') || destination == "." ? Path.Combine(to, Path.GetFileName(from)) : to;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(from, target);
        }
        else if (Directory.Exists(from))
            CopyDirectory(new DirectoryInfo(from), to);
        else
            throw new FileNotFoundException($"COPY {source}: not in the repository ({from})");
    }

    private static void CopyDirectory(DirectoryInfo from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in from.EnumerateFiles()) file.CopyTo(Path.Combine(to, file.Name));
        // Build outputs are excluded from the image's build context (RepositoryRoot.BuildExcludes).
        foreach (var directory in from.EnumerateDirectories().Where(d => d.Name is not ("bin" or "obj" or "TestResults")))
            CopyDirectory(directory, Path.Combine(to, directory.Name));
    }

    /// <summary>Runs dotnet; a machine without it fails with that said, not with a bare Win32Exception.</summary>
    private static (int Exit, string Output) Run(string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet", arguments)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        // Build servers left running would hold the redirected output open after dotnet exits.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["UseSharedCompilation"] = "false";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException($"the .NET SDK command 'dotnet' could not be started ({e.Message}): install the .NET 10 SDK and put dotnet on PATH", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(PublishTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {PublishTimeout.TotalMinutes} minutes");
            }
            return (process.ExitCode, output.Result + errors.Result);
        }
    }

    public void Dispose()
    {
        try { _work.Delete(recursive: true); }
        catch (IOException) { /* a leftover temp directory is harmless */ }
    }
}
