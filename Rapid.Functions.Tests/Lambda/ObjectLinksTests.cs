using Rapid.Core.Storage;
using Rapid.Functions.Lambda;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// The job API's download links on AWS (presigned S3 GET URLs) against independent references: the example AWS publishes in
/// "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)" (Amazon S3 API Reference), and a URL with a
/// session token presigned by the JavaScript SDK's signer (@smithy/signature-v4 from npm, run once to record its signature:
/// presign of a GET with an UNSIGNED-PAYLOAD body hash that is neither signed nor hoisted into the query, as S3's example signs).
/// Fixed fake credentials; nothing is called.
/// </summary>
public sealed class ObjectLinksTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public void The_presigned_GET_of_AWSs_documented_example_is_reproduced()
    {
        var url = SigV4.PresignGet(new Uri("https://examplebucket.s3.amazonaws.com/test.txt"),
            new AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", null), "us-east-1",
            new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(86400));

        Assert.Equal("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z" +
                     "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
                     "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404", url);
    }

    [Fact]
    public void A_role_s_link_to_a_product_is_signed_with_its_session_token_as_the_JavaScript_SDK_signs_it()
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_REGION"] = "us-west-2", ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
            ["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ["AWS_SESSION_TOKEN"] = "TOKEN/with+chars=",
        };
        var links = new ObjectLinks(environment.GetValueOrDefault, new FixedClock(new DateTimeOffset(2028, 9, 8, 6, 12, 44, TimeSpan.Zero)));

        var url = new Uri(links.Link(new ObjectRef("rapid-products", "20280907/jid5/rapid diff_jid5.fits")));

        Assert.Equal("https://rapid-products.s3.us-west-2.amazonaws.com/20280907/jid5/rapid%20diff_jid5.fits", url.GetLeftPart(UriPartial.Path));
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("TOKEN/with+chars=", query["X-Amz-Security-Token"]);
        Assert.Equal(((int)ObjectLinks.Lifetime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), query["X-Amz-Expires"]);
        Assert.Equal(900, (int)ObjectLinks.Lifetime.TotalSeconds);
        Assert.Equal("AKIDEXAMPLE/20280908/us-west-2/s3/aws4_request", query["X-Amz-Credential"]);
        Assert.Equal("6af5d872712e58d80847d404e39c3bfe80d9a54cd04d918422794141e0259e17", query["X-Amz-Signature"]);
    }

    [Fact]
    public void Under_a_local_S3_endpoint_the_link_is_path_style_and_a_missing_credential_is_named()
    {
        var environment = new Dictionary<string, string>
        {
            ["AWS_REGION"] = "us-west-2", ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE", ["AWS_SECRET_ACCESS_KEY"] = "secret",
            ["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:4568/",
        };
        var link = new ObjectLinks(environment.GetValueOrDefault).Link(new ObjectRef("logs", "20280907/log.txt"));
        Assert.StartsWith("http://127.0.0.1:4568/logs/20280907/log.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&", link, StringComparison.Ordinal);

        environment.Remove("AWS_SECRET_ACCESS_KEY");
        var e = Assert.Throws<InvalidOperationException>(() => new ObjectLinks(environment.GetValueOrDefault).Link(new ObjectRef("logs", "x")));
        Assert.Contains("AWS_SECRET_ACCESS_KEY", e.Message, StringComparison.Ordinal);
    }
}
