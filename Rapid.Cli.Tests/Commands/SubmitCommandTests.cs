using Rapid.Cli.Commands;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary><c>rapid submit</c> refuses a submission the job types' declarations refuse, with one line naming the input, before opening anything.</summary>
[Collection(ConsoleCaptureCollection.Name)]
public sealed class SubmitCommandTests
{
    [Theory]
    [InlineData("rid", "science")]
    [InlineData("rid", "science", "rid=-1")]
    [InlineData("reference-image", "diff", "science=/etc/hostname")]
    [InlineData("procdate", "nightrecovery")]
    [InlineData("type", "mosaic")]
    [InlineData("filter", "reference", "field=4", "filter=H-158")]
    [InlineData("field", "reference", "filter=H158")]
    [InlineData("colour", "science", "rid=4", "colour=red")]
    public async Task A_refused_submission_is_one_line_naming_the_input_and_exit_2(string input, params string[] args)
    {
        var home = Path.Combine(Path.GetTempPath(), $"rapid-submit-{Guid.NewGuid():N}"[..25]);

        var (code, output, error) = await ConsoleCapture.InvokeAsync(["submit", .. args, "--home", home]);

        Assert.Equal(CommandErrors.BadInput, code);
        var line = Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"input '{input}'", line);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(home));
    }
}
