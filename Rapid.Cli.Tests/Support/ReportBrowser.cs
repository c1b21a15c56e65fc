using PuppeteerSharp;
using Rapid.Cli.Bench;
using SkiaSharp;

namespace Rapid.Cli.Tests.Support;

/// <summary>
/// Debian's headless Chromium driven over the DevTools protocol (PuppeteerSharp, which here never downloads a browser):
/// opens a report page from disk and records what a person's browser would complain about: console errors, uncaught
/// exceptions, and any request that leaves the page (a self-contained page makes none but data: URIs).
/// </summary>
public sealed class ReportBrowser : IAsyncDisposable
{
    private readonly IBrowser _browser;
    private readonly string _profile;

    private ReportBrowser(IBrowser browser, string profile) => (_browser, _profile) = (browser, profile);

    public static async Task<ReportBrowser> LaunchAsync()
    {
        if (!File.Exists(HeadlessChromium.Executable))
            throw new InvalidOperationException($"{HeadlessChromium.Executable} is missing: ./rapid test installs Debian's chromium");
        var profile = Directory.CreateTempSubdirectory("rapid-chromium-test-").FullName;
        var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = HeadlessChromium.Executable,
            Headless = true,
            UserDataDir = profile,
            Args = [.. HeadlessChromium.Flags.Where(f => f != "--headless")],
            Timeout = 120_000,
        });
        return new ReportBrowser(browser, profile);
    }

    /// <summary>Opens <paramref name="file"/> and waits until its script has drawn every table (<c>body[data-ready]</c>).</summary>
    public async Task<OpenedPage> OpenAsync(string file, int width = 1280, int height = 900)
    {
        var page = await _browser.NewPageAsync();
        await page.SetViewportAsync(new ViewPortOptions { Width = width, Height = height });
        var opened = new OpenedPage(page);
        await page.GoToAsync(new Uri(Path.GetFullPath(file)).AbsoluteUri, new NavigationOptions { Timeout = 120_000, WaitUntil = [WaitUntilNavigation.Load] });
        await page.WaitForFunctionAsync("() => document.body.dataset.ready === 'true'", new WaitForFunctionOptions { Timeout = 120_000 });
        return opened;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.CloseAsync();
        await _browser.DisposeAsync();
        try { Directory.Delete(_profile, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A page as loaded, with what the browser reported while loading and using it.</summary>
public sealed class OpenedPage
{
    private readonly List<string> _errors = [];
    private readonly List<string> _external = [];

    public OpenedPage(IPage page)
    {
        Page = page;
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) lock (_errors) _errors.Add($"console: {e.Message.Text}"); };
        page.PageError += (_, e) => { lock (_errors) _errors.Add($"uncaught: {e.Message}"); };
        page.RequestFailed += (_, e) => { lock (_errors) _errors.Add($"request failed: {e.Request.Url}"); };
        page.Request += (_, e) =>
        {
            if (!e.Request.Url.StartsWith("file:", StringComparison.Ordinal) && !e.Request.Url.StartsWith("data:", StringComparison.Ordinal))
                lock (_external) _external.Add(e.Request.Url);
        };
    }

    public IPage Page { get; }

    public IReadOnlyList<string> Errors { get { lock (_errors) return [.. _errors]; } }
    public IReadOnlyList<string> ExternalRequests { get { lock (_external) return [.. _external]; } }

    public Task<T> EvalAsync<T>(string script) => Page.EvaluateExpressionAsync<T>(script);

    /// <summary>Rows of the long table drawn in the element <paramref name="hostId"/>, as text per cell.</summary>
    public Task<string[][]> RowsAsync(string hostId) =>
        EvalAsync<string[][]>($"[...document.querySelectorAll('#{hostId} tbody tr')].map(r => [...r.cells].map(c => c.textContent))");

    public Task<string> PagerTextAsync(string hostId) => EvalAsync<string>($"document.querySelector('#{hostId} .where').textContent");

    public async Task ClickAsync(string selector)
    {
        await Page.ClickAsync(selector);
        await Task.Delay(50); // the table redraws synchronously in the click handler; let the event loop turn
    }

    /// <summary>A screenshot of the whole page, and the fraction of its pixels that are not near-white and its number of distinct colours.</summary>
    public async Task<(byte[] Png, double InkFraction, int Colours)> ScreenshotAsync()
    {
        var png = await Page.ScreenshotDataAsync(new ScreenshotOptions { FullPage = true, Type = ScreenshotType.Png });
        using var bitmap = SKBitmap.Decode(png) ?? throw new InvalidOperationException("the screenshot is not a PNG");
        long ink = 0;
        var colours = new HashSet<uint>();
        for (var y = 0; y < bitmap.Height; y += 2)
            for (var x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                if (c.Red < 235 || c.Green < 235 || c.Blue < 235) ink++;
                if (colours.Count < 10_000) colours.Add((uint)c);
            }
        return (png, ink / (double)((bitmap.Width + 1) / 2 * ((bitmap.Height + 1) / 2)), colours.Count);
    }
}
