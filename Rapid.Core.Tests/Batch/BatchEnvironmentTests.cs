using Rapid.Core.Batch;
using Rapid.Core.Storage;

namespace Rapid.Core.Tests.Batch;

public class BatchEnvironmentTests
{
    private const string JobList = "s3://rapid-pipeline-files/20250404/plans/ppid15_run7.json";

    private static BatchEnvironment Read(Dictionary<string, string> env) => BatchEnvironment.FromEnvironment(env.GetValueOrDefault);

    [Fact]
    public void Reads_what_AWS_Batch_and_the_job_definition_set()
    {
        var env = new Dictionary<string, string>
        {
            ["RAPID_JOB_LIST"] = JobList,
            ["AWS_BATCH_JOB_ARRAY_INDEX"] = "17",
            ["AWS_BATCH_JOB_ID"] = "0f1e2d3c:17",
            ["AWS_BATCH_JOB_ATTEMPT"] = "2",
            ["RAPID_PRODUCTS_BUCKET"] = "my-products",
        };

        var batch = Read(env);

        Assert.Equal(ObjectRef.Parse(JobList), batch.JobList);
        Assert.Equal(17, batch.ArrayIndex);
        Assert.Equal("0f1e2d3c:17", batch.BatchJobId);
        Assert.Equal(2, batch.Attempt);
        Assert.Equal(Buckets.Default with { Products = "my-products" }, batch.Buckets);
        Assert.Null(batch.StoreRoot);
    }

    [Fact]
    public void A_single_job_without_an_array_index_runs_entry_zero_with_local_defaults()
    {
        var batch = Read(new() { ["RAPID_JOB_LIST"] = JobList });

        Assert.Equal(0, batch.ArrayIndex);
        Assert.Equal("local", batch.BatchJobId);
        Assert.Equal(1, batch.Attempt);
        Assert.Equal(Buckets.Default, batch.Buckets);
    }

    [Fact]
    public void A_missing_job_list_is_named()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Read(new() { ["AWS_BATCH_JOB_ARRAY_INDEX"] = "0" }));

        Assert.Contains("RAPID_JOB_LIST", e.Message);
    }

    [Fact]
    public void A_job_list_that_is_not_an_object_uri_is_named_with_its_value()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Read(new() { ["RAPID_JOB_LIST"] = "/tmp/list.json" }));

        Assert.Contains("RAPID_JOB_LIST", e.Message);
        Assert.Contains("'/tmp/list.json'", e.Message);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("one")]
    [InlineData("")]
    [InlineData("1.5")]
    public void A_bad_array_index_is_named_with_its_value(string index)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Read(new() { ["RAPID_JOB_LIST"] = JobList, ["AWS_BATCH_JOB_ARRAY_INDEX"] = index }));

        Assert.Contains($"AWS_BATCH_JOB_ARRAY_INDEX='{index}'", e.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("two")]
    [InlineData("-3")]
    public void A_bad_attempt_number_is_named_with_its_value(string attempt)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Read(new() { ["RAPID_JOB_LIST"] = JobList, ["AWS_BATCH_JOB_ATTEMPT"] = attempt }));

        Assert.Contains($"AWS_BATCH_JOB_ATTEMPT='{attempt}'", e.Message);
    }

    [Fact]
    public void AsEnvironment_round_trips_through_FromEnvironment()
    {
        var batch = new BatchEnvironment(ObjectRef.Parse(JobList), 3, "local-run:3", 2,
            new Buckets("d", "p", "pr", "l"), "/var/rapid/store");

        var env = batch.AsEnvironment().ToDictionary();

        Assert.Equal(batch, Read(env));
        Assert.Equal("/var/rapid/store", env["RAPID_STORE_ROOT"]);
        Assert.Equal("3", env["AWS_BATCH_JOB_ARRAY_INDEX"]);
        Assert.Equal(JobList, env["RAPID_JOB_LIST"]);
    }

    [Fact]
    public void Without_a_store_root_the_environment_does_not_set_one()
    {
        var batch = new BatchEnvironment(ObjectRef.Parse(JobList), 0, "j", 1, Buckets.Default, null);

        var env = batch.AsEnvironment().ToDictionary();

        Assert.DoesNotContain("RAPID_STORE_ROOT", env.Keys);
        Assert.Equal(batch, Read(env));
    }
}
