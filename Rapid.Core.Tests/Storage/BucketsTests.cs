using Rapid.Core.Storage;

namespace Rapid.Core.Tests.Storage;

public class BucketsTests
{
    [Fact]
    public void Defaults_are_the_original_systems_bucket_names()
    {
        Assert.Equal(new Buckets("rapid-l2-files", "rapid-pipeline-files", "rapid-product-files", "rapid-pipeline-logs"), Buckets.Default);
        Assert.Equal(Buckets.Default, Buckets.FromEnvironment(_ => null));
    }

    [Fact]
    public void Each_bucket_can_be_overridden_on_its_own()
    {
        var env = new Dictionary<string, string> { ["RAPID_PRODUCTS_BUCKET"] = "my-products" };

        var buckets = Buckets.FromEnvironment(env.GetValueOrDefault);

        Assert.Equal(Buckets.Default with { Products = "my-products" }, buckets);
    }

    [Fact]
    public void AsEnvironment_round_trips_through_FromEnvironment()
    {
        var buckets = new Buckets("d", "p", "pr", "l");
        var env = buckets.AsEnvironment().ToDictionary();

        Assert.Equal(["RAPID_DATA_BUCKET", "RAPID_LOGS_BUCKET", "RAPID_PIPELINE_BUCKET", "RAPID_PRODUCTS_BUCKET"], env.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(buckets, Buckets.FromEnvironment(env.GetValueOrDefault));
    }
}
