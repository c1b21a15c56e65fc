using Rapid.Core.Jobs;
using Rapid.Core.Storage;

namespace Rapid.Core.Tests.Storage;

public class ObjectKeysTests
{
    private static readonly ProcessingDate Date = ProcessingDate.Parse("20250404");
    private readonly ObjectKeys _keys = new(new Buckets("data", "pipe", "prod", "logs"));

    [Fact]
    public void Everything_a_job_reads_or_writes_is_under_procdate_slash_jid()
    {
        Assert.Equal("20250404/jid42/", ObjectKeys.JobPrefix(Date, 42));
        Assert.Equal(ObjectRef.Parse("s3://pipe/20250404/jid42/job_config_jid42.json"), _keys.JobConfig(Date, 42));
        Assert.Equal(ObjectRef.Parse("s3://prod/20250404/jid42/diffimage.fits"), _keys.Product(Date, 42, "diffimage.fits"));
        Assert.Equal(ObjectRef.Parse("s3://prod/20250404/jid42/manifest_jid42.json"), _keys.Manifest(Date, 42));
    }

    [Fact]
    public void Reprocessing_on_another_date_gets_new_keys_and_on_the_same_date_the_same_keys()
    {
        var other = ProcessingDate.Parse("20250405");

        Assert.NotEqual(_keys.Manifest(Date, 42), _keys.Manifest(other, 42));
        Assert.Equal(_keys.Manifest(Date, 42), _keys.Manifest(ProcessingDate.Parse("20250404"), 42));
    }

    [Fact]
    public void Job_lists_are_per_pipeline_and_plan_under_the_date()
    {
        Assert.Equal(ObjectRef.Parse("s3://pipe/20250404/plans/ppid15_run7.json"), _keys.JobList(Date, 15, "run7"));
        Assert.NotEqual(_keys.JobList(Date, 12, "run7"), _keys.JobList(Date, 15, "run7"));
    }

    [Fact]
    public void Logs_and_L2_files_live_in_their_own_buckets()
    {
        Assert.Equal(ObjectRef.Parse("s3://logs/20250404/rapid_pipeline_job_20250404_jid42_log.txt"), _keys.Log(Date, 42));
        Assert.Equal(ObjectRef.Parse("s3://data/Roman_TDS_F158_1_7.fits.gz"), _keys.L2File("Roman_TDS_F158_1_7.fits.gz"));
    }

    [Fact]
    public void Job_prefixes_of_different_jobs_do_not_contain_each_other()
    {
        // jid1's prefix must not match jid10's keys when listing.
        Assert.False(_keys.Product(Date, 10, "a.fits").Key.StartsWith(ObjectKeys.JobPrefix(Date, 1), StringComparison.Ordinal));
    }

    [Fact]
    public void Keys_use_the_buckets_given()
    {
        var keys = new ObjectKeys(Buckets.Default);

        Assert.Same(Buckets.Default, keys.Buckets);
        Assert.Equal("rapid-pipeline-files", keys.JobConfig(Date, 1).Bucket);
        Assert.Equal("rapid-product-files", keys.Manifest(Date, 1).Bucket);
        Assert.Equal("rapid-pipeline-logs", keys.Log(Date, 1).Bucket);
        Assert.Equal("rapid-l2-files", keys.L2File("x.fits").Bucket);
    }
}
