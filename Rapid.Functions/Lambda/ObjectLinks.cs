using Rapid.Core.Storage;

namespace Rapid.Functions.Lambda;

/// <summary>
/// Download links of the job API on AWS: a presigned S3 GET URL (<see cref="SigV4.PresignGet"/>) of an object, signed in the
/// λ with its role's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, set by Lambda) and valid for
/// <see cref="Lifetime"/>. Signing calls nothing: whoever holds the URL may read that one object until it expires, and only
/// if the λ's role may (its IAM grants name the products, logs and reports it links, nothing else). The object's URL is
/// virtual-hosted (<c>https://{bucket}.s3.{region}.amazonaws.com/{key}</c>), or path style under AWS_ENDPOINT_URL_S3 when
/// that names another S3 (tests).
/// </summary>
public sealed class ObjectLinks(Func<string, string?> lookup, TimeProvider? clock = null)
{
    /// <summary>How long a link lasts: long enough to start a download, short enough that a leaked one soon stops working.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>The presigned GET URL of <paramref name="obj"/>.</summary>
    public string Link(ObjectRef obj)
    {
        var region = lookup("AWS_REGION") is { Length: > 0 } r ? r : throw new InvalidOperationException("AWS_REGION is not set (Lambda sets it)");
        var url = lookup("AWS_ENDPOINT_URL_S3") is { Length: > 0 } endpoint
            ? new Uri($"{endpoint.TrimEnd('/')}/{obj.Bucket}/{obj.Key}")
            : new Uri($"https://{obj.Bucket}.s3.{region}.amazonaws.com/{obj.Key}");
        return SigV4.PresignGet(url, AwsCredentials.FromEnvironment(lookup), region, _clock.GetUtcNow(), Lifetime);
    }
}
