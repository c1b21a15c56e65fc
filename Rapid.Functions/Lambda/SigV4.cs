using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Rapid.Functions.Lambda;

/// <summary>AWS credentials: an access key, its secret, and a session token for temporary ones (a Lambda role's always has one).</summary>
public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken)
{
    /// <summary>
    /// The credentials the Lambda runtime gives a function's execution role, as its documented environment variables
    /// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); a missing one is named.
    /// </summary>
    public static AwsCredentials FromEnvironment(Func<string, string?> lookup) => new(
        lookup("AWS_ACCESS_KEY_ID") ?? throw new InvalidOperationException("AWS_ACCESS_KEY_ID is not set (Lambda sets it for the function's role)"),
        lookup("AWS_SECRET_ACCESS_KEY") ?? throw new InvalidOperationException("AWS_SECRET_ACCESS_KEY is not set (Lambda sets it for the function's role)"),
        lookup("AWS_SESSION_TOKEN"));

    /// <summary>Never the secret or the token: these may end up in a log line.</summary>
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId} }}";
}

/// <summary>
/// Signature Version 4 of a JSON-protocol AWS API request (AWS General Reference, "Signing AWS API requests"): the
/// canonical request over the method, path "/", no query, the signed headers (lower-case, sorted) and the payload's
/// SHA-256; the string to sign over its hash with the date and scope; the key derived by HMAC-SHA256 from the secret
/// through date, region, service and "aws4_request". Used where no AWS SDK package for the service is at hand (Step
/// Functions, API calls of the ingest λ); checked against AWS's published test vector and the JavaScript SDK's signer.
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// The headers to send with a POST of <paramref name="body"/> to <paramref name="host"/> at <paramref name="now"/>:
    /// the given ones, <c>host</c>, <c>x-amz-date</c>, the session token if any, and <c>authorization</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Sign(string method, string host, string path, IReadOnlyDictionary<string, string> headers,
        string body, AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        var amzDate = AmzDate(now);
        var date = amzDate[..8];
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in headers) all[name.ToLowerInvariant()] = value.Trim();
        all["host"] = host;
        all["x-amz-date"] = amzDate;
        if (credentials.SessionToken is { } token) all["x-amz-security-token"] = token;
        var signedHeaders = string.Join(';', all.Keys);
        var canonical = string.Join('\n',
            method, path, "", string.Concat(all.Select(h => $"{h.Key}:{h.Value}\n")), signedHeaders, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(body))));
        var scope = $"{date}/{region}/{service}/aws4_request";
        var signature = Signature(canonical, amzDate, scope, credentials, region, service);
        var result = new Dictionary<string, string>(all)
        {
            ["authorization"] = $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}",
        };
        return result;
    }

    /// <summary>
    /// A presigned GET of an object (query-string authentication: Amazon S3 API Reference, "Authenticating Requests: Using
    /// Query Parameters (AWS Signature Version 4)"): the URL with X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders
    /// (host only), the session token if any, and -Signature over the canonical request of a GET with an unsigned payload.
    /// Signing is local: it calls nothing, and the URL grants no more than the signer's own permissions allow, for
    /// <paramref name="expires"/> (1 s .. 7 days) from <paramref name="now"/>.
    /// </summary>
    /// <returns>The URL as text (Uri would unescape its query).</returns>
    /// <param name="objectUrl">The object's URL without a query (virtual-hosted or path style; the path as S3 keys it, unencoded).</param>
    public static string PresignGet(Uri objectUrl, AwsCredentials credentials, string region, DateTimeOffset now, TimeSpan expires)
    {
        if (expires < TimeSpan.FromSeconds(1) || expires > TimeSpan.FromDays(7))
            throw new ArgumentOutOfRangeException(nameof(expires), expires, "a presigned URL lasts 1 second to 7 days");
        var amzDate = AmzDate(now);
        var scope = $"{amzDate[..8]}/{region}/s3/aws4_request";
        var query = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["X-Amz-Algorithm"] = Algorithm,
            ["X-Amz-Credential"] = $"{credentials.AccessKeyId}/{scope}",
            ["X-Amz-Date"] = amzDate,
            ["X-Amz-Expires"] = ((long)expires.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ["X-Amz-SignedHeaders"] = "host",
        };
        if (credentials.SessionToken is { } token) query["X-Amz-Security-Token"] = token;
        // S3 signs the path as given, each segment URI-encoded once ('/' kept).
        var path = string.Join('/', Uri.UnescapeDataString(objectUrl.AbsolutePath).Split('/').Select(Uri.EscapeDataString));
        var canonicalQuery = string.Join('&', query.Select(q => $"{Uri.EscapeDataString(q.Key)}={Uri.EscapeDataString(q.Value)}"));
        var host = objectUrl.IsDefaultPort ? objectUrl.Host : objectUrl.Authority;
        var canonical = string.Join('\n', "GET", path, canonicalQuery, $"host:{host}\n", "host", "UNSIGNED-PAYLOAD");
        return $"{objectUrl.Scheme}://{objectUrl.Authority}{path}?{canonicalQuery}&X-Amz-Signature={Signature(canonical, amzDate, scope, credentials, region, "s3")}";
    }

    private static string AmzDate(DateTimeOffset now) => now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The hex signature of a canonical request: the string to sign over its hash with the date and scope, signed
    /// with the key derived from the secret through date, region, service and "aws4_request".</summary>
    private static string Signature(string canonical, string amzDate, string scope, AwsCredentials credentials, string region, string service)
    {
        var stringToSign = string.Join('\n', Algorithm, amzDate, scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))));
        var key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + credentials.SecretAccessKey), amzDate[..8]), region), service), "aws4_request");
        return Hex(Hmac(key, stringToSign));
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);
}
