using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary><c>--settings FILE</c> of <c>rapid run</c> and <c>rapid diff</c>: a bad profile is one line naming the file and field, exit 2, before anything runs.</summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class SettingsOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rapid-settings-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    [Theory]
    [InlineData("run")]
    [InlineData("diff")]
    public async Task A_profile_with_a_misspelt_setting_is_refused_naming_it(string command)
    {
        var profile = Path.Combine(_dir, "night.json");
        await File.WriteAllTextAsync(profile, """{ "schemaVersion": 1, "name": "deep", "settings": { "detectionThreshold": 4.5 } }""");
        string[] args = command == "run"
            ? ["run", "--settings", profile, "--home", Path.Combine(_dir, "home"), "--start", "2028-09-07 00:00:00", "--end", "2028-09-08 08:30:00"]
            : ["diff", "--settings", profile, "--science", Path.Combine(_dir, "none.fits"), "--reference-image", Path.Combine(_dir, "none.fits"), "--out", Path.Combine(_dir, "out")];

        var (code, _, error) = await ConsoleCapture.InvokeAsync(args);

        Assert.Equal(2, code);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"{profile}: settings.detectionThreshold: no such setting", line);
        Assert.False(Directory.Exists(Path.Combine(_dir, "home")), "the run opened its home before refusing the profile");
    }
}
