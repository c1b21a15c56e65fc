using System.Diagnostics;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.S3;

namespace Rapid.Core.Tests.Support;

/// <summary>
/// A local S3 stand-in: the npm package s3rver (pinned in the repository's package.json), started
/// on 127.0.0.1 with a free port and a temporary data directory, and an S3 client pointed at it
/// with dummy credentials. Nothing here can reach AWS.
/// </summary>
public sealed partial class S3rverFixture : IAsyncLifetime
{
    private readonly TemporaryDirectory _data = new();
    private Process? _server;

    public IAmazonS3 Client { get; private set; } = null!;

    public Uri Endpoint { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var executable = Path.Combine(RepositoryFiles.Root(), "node_modules", ".bin", "s3rver");
        if (!File.Exists(executable))
            throw new InvalidOperationException($"{executable} is missing: run npm ci (s3rver is pinned in package.json)");

        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Port 0: s3rver binds a free port and prints it, so parallel test runs never collide.
        foreach (var arg in new[] { "--directory", _data.Path, "--address", "127.0.0.1", "--port", "0", "--no-vhost-buckets" })
            start.ArgumentList.Add(arg);
        _server = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new System.Text.StringBuilder();
        _server.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && ListeningLine().Match(e.Data) is { Success: true } m)
                listening.TrySetResult(new Uri($"http://127.0.0.1:{m.Groups[1].Value}"));
        };
        _server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        _server.EnableRaisingEvents = true;
        _server.Exited += (_, _) => listening.TrySetException(
            new InvalidOperationException($"s3rver exited before listening: {errors}"));
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // A guard against a hung start, not a performance assertion.
        Endpoint = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            UseHttp = true,
        });
    }

    public Task DisposeAsync()
    {
        Client?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit();
        }
        _server?.Dispose();
        _data.Dispose();
        return Task.CompletedTask;
    }


    [GeneratedRegex(@"listening on [^\s:]+:(\d+)")]
    private static partial Regex ListeningLine();
}
