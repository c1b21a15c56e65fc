using System.CommandLine;
using Rapid.Cli.Api;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid serve</c>: the job API (<see cref="JobApi"/>) over the embedded home, on loopback unless told otherwise, with
/// the submitted jobs run one at a time in the same process; the bearer token is made on first start in
/// <c>&lt;home&gt;/api-token</c> (mode 0600) and never printed. Stops on SIGINT/SIGTERM (exit 130/143); a job running then
/// is killed, closed with the reason, and its submission failed.
/// </summary>
internal static class ServeCommand
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static Command Create()
    {
        var listen = new Option<string[]>("--listen")
        {
            Description = $"URL to listen on (repeatable; default {DefaultUrl}: loopback only)", AllowMultipleArgumentsPerToken = false,
        };
        var tokenFile = new Option<string?>("--token-file") { Description = "The bearer token's file (default: <home>/api-token; made with mode 0600 when missing)" };
        var options = new WorkflowOptions();
        var command = new Command("serve", "Serve the job API (POST /api/v1/jobs, GET /api/v1/jobs/{id}, GET /api/v1/nights/{procdate}, " +
                                           "/api/v1/openapi.json) on loopback, bearer token required, until interrupted (exit 130/143)")
        {
            listen, tokenFile,
        };
        options.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(options.Verbose), async () =>
        {
            var urls = parse.GetValue(listen) is { Length: > 0 } given ? given : [DefaultUrl];
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
                    throw new ArgumentException($"--listen {url}: not an http:// URL (TLS belongs to a proxy in front)");
                if (!uri.IsLoopback) Console.Error.WriteLine($"rapid: serve: {url} is not a loopback address: the API is reachable from other machines");
            }
            await using var workflow = await options.OpenAsync(parse, force: false, ct, createHome: false);
            var tokenPath = Path.GetFullPath(parse.GetValue(tokenFile) ?? Path.Combine(workflow.Value.Home.Path, "api-token"));
            var token = ApiToken.LoadOrCreate(tokenPath, out var created);
            var api = new JobApi(workflow.Value, token);
            await using var app = api.Build(urls);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await app.StartAsync(ct);
            Console.WriteLine($"Serving the job API on {string.Join(", ", urls)}; bearer token {(created ? "made in" : "in")} {tokenPath}");
            var worker = api.RunSubmissionsAsync(stop.Token);
            try
            {
                await Task.WhenAny(worker, Task.Delay(Timeout.Infinite, ct));
                await worker.WaitAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (worker.IsFaulted) await worker; // the worker failed (the database went away): its error, classified
                ct.ThrowIfCancellationRequested();
                return 0;
            }
            finally
            {
                await stop.CancelAsync();
                try { await worker; } catch (OperationCanceledException) { }
                await app.StopAsync(CancellationToken.None);
            }
        }));
        return command;
    }
}
