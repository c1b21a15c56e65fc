namespace Rapid.Core.Storage;

/// <summary>
/// An object in the object store: a bucket and a key. Written as <c>s3://bucket/key</c> in both
/// modes; the directory store maps a bucket to a sub-directory of its root, so database rows
/// and manifests are the same in AWS and embedded mode.
/// </summary>
public sealed record ObjectRef(string Bucket, string Key)
{
    public const string Scheme = "s3://";

    public override string ToString() => $"{Scheme}{Bucket}/{Key}";

    /// <summary>The last path segment of the key.</summary>
    public string FileName => Key[(Key.LastIndexOf('/') + 1)..];

    public ObjectRef Sibling(string fileName) =>
        this with { Key = Key.Contains('/') ? $"{Key[..Key.LastIndexOf('/')]}/{fileName}" : fileName };

    public static ObjectRef Parse(string uri) =>
        TryParse(uri, out var r) ? r! : throw new FormatException($"'{uri}' is not an object URI of the form s3://bucket/key");

    public static bool TryParse(string? uri, out ObjectRef? result)
    {
        result = null;
        if (uri is null || !uri.StartsWith(Scheme, StringComparison.Ordinal)) return false;
        var rest = uri[Scheme.Length..];
        var slash = rest.IndexOf('/');
        if (slash <= 0 || slash == rest.Length - 1) return false;
        result = new ObjectRef(rest[..slash], rest[(slash + 1)..]);
        return true;
    }
}
