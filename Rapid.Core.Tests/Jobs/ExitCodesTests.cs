using Rapid.Core.Jobs;

namespace Rapid.Core.Tests.Jobs;

public class ExitCodesTests
{
    [Theory]
    [InlineData(0, ExitCodeSeverity.Normal)]
    [InlineData(31, ExitCodeSeverity.Normal)]
    [InlineData(32, ExitCodeSeverity.Warning)]
    [InlineData(33, ExitCodeSeverity.Warning)]
    [InlineData(63, ExitCodeSeverity.Warning)]
    [InlineData(64, ExitCodeSeverity.Error)]
    [InlineData(70, ExitCodeSeverity.Error)]
    [InlineData(255, ExitCodeSeverity.Error)]
    [InlineData(-1, ExitCodeSeverity.Error)]
    public void Severity_follows_the_Spitzer_convention(int code, ExitCodeSeverity severity) =>
        Assert.Equal(severity, ExitCodes.Severity(code));

    [Theory]
    [InlineData(0, true)]
    [InlineData(31, true)]
    [InlineData(32, true)]
    [InlineData(33, false)]
    [InlineData(63, true)]
    [InlineData(64, false)]
    [InlineData(65, false)]
    [InlineData(70, false)]
    [InlineData(-1, false)]
    public void Products_are_registered_for_normal_and_warning_codes_except_no_reference(int code, bool hasProducts) =>
        Assert.Equal(hasProducts, ExitCodes.HasProducts(code));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(31, 0)]
    [InlineData(32, 0)]
    [InlineData(33, 0)]
    [InlineData(63, 0)]
    [InlineData(64, 64)]
    [InlineData(65, 65)]
    [InlineData(67, 67)]
    public void Only_an_error_makes_the_process_exit_non_zero_so_Batch_fails_only_errors(int code, int processExitCode) =>
        Assert.Equal(processExitCode, ExitCodes.ProcessExitCode(code));

    [Fact]
    public void Named_codes_have_the_severity_their_meaning_needs()
    {
        Assert.Equal(ExitCodeSeverity.Normal, ExitCodes.Severity(ExitCodes.Success));
        Assert.Equal(ExitCodeSeverity.Warning, ExitCodes.Severity(ExitCodes.Degraded));
        Assert.Equal(ExitCodeSeverity.Warning, ExitCodes.Severity(ExitCodes.NoReferenceImage));
        Assert.All(new[] { ExitCodes.Error, ExitCodes.InvalidInput, ExitCodes.LogUploadFailed, ExitCodes.InvalidConfig, ExitCodes.Lost },
            c => Assert.Equal(ExitCodeSeverity.Error, ExitCodes.Severity(c)));
    }

    [Theory]
    [InlineData(0, "success")]
    [InlineData(32, "degraded result")]
    [InlineData(33, "no reference image possible")]
    [InlineData(67, "invalid job config")]
    [InlineData(70, "job lost (no manifest)")]
    [InlineData(5, "normal")]
    [InlineData(40, "warning")]
    [InlineData(99, "error")]
    public void Describe_names_known_codes_and_falls_back_to_the_severity(int code, string text) =>
        Assert.Equal(text, ExitCodes.Describe(code));
}
