using Rapid.Core.Storage;

namespace Rapid.Core.Tests.Storage;

public class ObjectRefTests
{
    [Theory]
    [InlineData("s3://rapid-pipeline-files/20250404/jid7/job_config_jid7.json", "rapid-pipeline-files", "20250404/jid7/job_config_jid7.json")]
    [InlineData("s3://b/k", "b", "k")]
    [InlineData("s3://b/dir/with spaces/file.fits", "b", "dir/with spaces/file.fits")]
    public void Parse_and_ToString_round_trip(string uri, string bucket, string key)
    {
        var parsed = ObjectRef.Parse(uri);

        Assert.Equal(new ObjectRef(bucket, key), parsed);
        Assert.Equal(uri, parsed.ToString());
        Assert.Equal(parsed, ObjectRef.Parse(parsed.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("rapid-l2-files/a.fits")]
    [InlineData("S3://bucket/key")]
    [InlineData("s3:/bucket/key")]
    [InlineData("https://bucket.s3.amazonaws.com/key")]
    [InlineData("s3://")]
    [InlineData("s3://bucket")]
    [InlineData("s3://bucket/")]
    [InlineData("s3:///key")]
    public void Parse_rejects_malformed_uris_naming_the_input(string uri)
    {
        var e = Assert.Throws<FormatException>(() => ObjectRef.Parse(uri));

        Assert.Contains($"'{uri}'", e.Message);
        Assert.Contains("s3://bucket/key", e.Message);
        Assert.False(ObjectRef.TryParse(uri, out var result));
        Assert.Null(result);
    }

    [Fact]
    public void TryParse_rejects_null()
    {
        Assert.False(ObjectRef.TryParse(null, out var result));
        Assert.Null(result);
    }

    [Theory]
    [InlineData("20250404/jid7/diffimage.fits", "diffimage.fits")]
    [InlineData("top.fits", "top.fits")]
    [InlineData("a/b/c/d.txt", "d.txt")]
    public void FileName_is_the_last_key_segment(string key, string fileName) =>
        Assert.Equal(fileName, new ObjectRef("b", key).FileName);

    [Fact]
    public void Sibling_replaces_the_file_name_in_the_same_bucket_and_folder()
    {
        var image = ObjectRef.Parse("s3://products/20250404/jid7/diffimage.fits");

        Assert.Equal(ObjectRef.Parse("s3://products/20250404/jid7/manifest_jid7.json"), image.Sibling("manifest_jid7.json"));
    }

    [Fact]
    public void Sibling_of_a_top_level_key_is_top_level() =>
        Assert.Equal(new ObjectRef("b", "other.fits"), new ObjectRef("b", "top.fits").Sibling("other.fits"));
}
