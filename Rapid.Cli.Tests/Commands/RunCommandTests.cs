using Rapid.Cli.Commands;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary><c>rapid run</c> on a tiny simulated night: what it says and how it exits when there is nothing to do or jobs fail.</summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class RunCommandTests(EmbeddedDatabaseFixture fixture)
{
    private static string[] RunArgs(TinySurvey survey, string procDate, params string[] more)
    {
        var night = survey.LastNight(procDate);
        return ["run", "--start", night.StartDateTime!, "--end", night.EndDateTime!, "--procdate", procDate,
            "--db", survey.OwnerConnectionString, "--home", survey.Home.Path, "--parallel", "2",
            "--reference-grid", TinySurvey.ReferenceGrid.ToString(), .. more];
    }

    [Fact]
    public async Task A_night_run_again_says_its_images_already_have_products_and_how_to_run_them_again()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 31);
        var first = await ConsoleCapture.InvokeAsync(RunArgs(survey, "20280910"));
        Assert.True(first.Code == 0, first.Error);

        var again = await ConsoleCapture.InvokeAsync(RunArgs(survey, "20280910"));

        Assert.Equal(0, again.Code);
        Assert.Contains("Nothing to do: the 1 L2 images observed in the window", again.Output);
        Assert.Contains("already have products on processing date 20280910; --force runs them again", again.Output);
    }

    [Fact]
    public async Task A_run_in_which_a_job_ended_in_error_exits_5_after_its_summary()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 37);
        var science = survey.Survey.Images.MaxBy(i => i.DateObsUtc)!;
        await File.WriteAllTextAsync(science.Path, "SIMPLE  =                    T / but the rest is missing");

        var (code, output, error) = await ConsoleCapture.InvokeAsync(RunArgs(survey, "20280910"));

        Assert.Equal(CommandErrors.JobsFailed, code);
        Assert.Contains("did not finish", output);
        Assert.Contains("1 job of this run ended in error", error);
    }
}
