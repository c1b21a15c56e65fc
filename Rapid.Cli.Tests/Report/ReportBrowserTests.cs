using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Report;

/// <summary>The page tests' browser harness itself: what it must catch, it catches.</summary>
public sealed class ReportBrowserTests
{
    [Fact]
    public async Task The_harness_reports_console_errors_uncaught_exceptions_and_requests_that_leave_the_page()
    {
        var dir = Directory.CreateTempSubdirectory("rapid-browser-").FullName;
        try
        {
            var page = Path.Combine(dir, "bad.html");
            await File.WriteAllTextAsync(page, """
                <!DOCTYPE html><html><body><p>bad page</p>
                <img src="http://127.0.0.1:9/missing.png">
                <script>console.error("boom"); document.body.dataset.ready = "true"; setTimeout(() => { throw new Error("uncaught"); }, 0);</script>
                </body></html>
                """);
            await using var browser = await ReportBrowser.LaunchAsync();
            var opened = await browser.OpenAsync(page);
            await Task.Delay(200);
            Assert.Contains(opened.Errors, e => e.Contains("boom"));
            Assert.Contains(opened.Errors, e => e.Contains("uncaught"));
            Assert.Contains("http://127.0.0.1:9/missing.png", opened.ExternalRequests);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
