using Rapid.Core.Storage;
using Rapid.Functions.Report;
using Rapid.Functions.Report.Data;
using Rapid.Functions.Report.Html;

namespace Rapid.Functions.Tests.Report;

public sealed class FailureReasonsTests
{
    [Fact]
    public void Reasons_that_differ_only_in_ids_paths_and_numbers_group_together_but_signals_do_not()
    {
        Assert.Equal(FailureReasons.Pattern("rid 12: s3://rapid-l2-files/a/L2_1_sca3.fits: truncated after 2880 bytes"),
                     FailureReasons.Pattern("rid 13: s3://rapid-l2-files/b/L2_9_sca4.fits: truncated after 5760 bytes"));
        Assert.Equal(FailureReasons.Pattern("/tmp/work/jid7/sci.fits not found"), FailureReasons.Pattern("/tmp/work/jid8/sci.fits not found"));
        Assert.NotEqual(FailureReasons.Pattern("killed by signal 9"), FailureReasons.Pattern("killed by signal 15"));
        Assert.Equal("timed out after # s; the job was killed", FailureReasons.Pattern("timed out after 7200 s; the job was killed"));
        Assert.Equal("(no reason recorded)", FailureReasons.Pattern(null));
        // The pattern reads as the reason did: the punctuation after a URI stays, digits inside words and URIs are not numbers.
        Assert.Equal("rid #: s3://…: truncated: the header of HDU # ends before its END card",
            FailureReasons.Pattern("rid 49: s3://rapid-l2-files/synthetic/20280912/L2_3_sca13.fits: truncated: the header of HDU 1 ends before its END card"));
        Assert.Equal("F184 image #: PSF of FWHM # px", FailureReasons.Pattern("F184 image 7: PSF of FWHM 1.53 px"));
    }

    [Fact]
    public void Groups_are_largest_first_and_only_of_faults()
    {
        JobRun Job(long jid, JobOutcomeClass outcome, int? exit, string? reason) =>
            new(jid, 15, outcome, exit, reason, jid, null, null, null, null, null, null, null, null, null);
        var groups = FailureReasons.Group([
            Job(1, JobOutcomeClass.Lost, 70, "killed by signal 9"), Job(2, JobOutcomeClass.Failed, 65, "rid 2: bad"),
            Job(3, JobOutcomeClass.Failed, 65, "rid 3: bad"), Job(4, JobOutcomeClass.Degraded, 32, "psf"), Job(5, JobOutcomeClass.Succeeded, 0, null)]);
        Assert.Equal([(65, 2), (70, 1)], groups.Select(g => (g.ExitCode ?? 0, g.Jobs.Count)));
    }

    [Fact]
    public void Job_vcpus_parse_from_ppid_pairs_and_anything_else_is_an_error_naming_the_variable()
    {
        Assert.Equal(new Dictionary<int, int> { [12] = 4, [15] = 4, [17] = 1 }, NightReportOptions.ParseJobVcpus("12=4, 15=4,17=1"));
        var e = Assert.Throws<FormatException>(() => NightReportOptions.ParseJobVcpus("15=four"));
        Assert.Contains(NightReportOptions.JobVcpusVariable, e.Message);
        Assert.Throws<FormatException>(() => NightReportOptions.ParseJobVcpus("99=4"));
    }

    [Fact]
    public void Links_from_a_stored_report_are_relative_to_its_place_in_the_store()
    {
        var links = ReportLinks.InStore(new ObjectRef("rapid-product-files", "20280910/rapid_night_report_20280910.html"));
        Assert.Equal("jid7/diff%20image.fits", links.Href(new ObjectRef("rapid-product-files", "20280910/jid7/diff image.fits")));
        Assert.Equal("../../rapid-pipeline-logs/20280910/log.txt", links.Href(new ObjectRef("rapid-pipeline-logs", "20280910/log.txt")));
    }
}
