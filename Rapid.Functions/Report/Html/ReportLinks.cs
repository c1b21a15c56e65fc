using Rapid.Core.Storage;

namespace Rapid.Functions.Report.Html;

/// <summary>
/// Links from the report to objects (products, logs) as paths relative to the report's own location, so they work
/// wherever the store's layout (one directory per bucket, keys below it) is: in embedded mode's store, in a copy of
/// the buckets (<c>aws s3 sync</c>), or behind a web server over them.
/// </summary>
public sealed class ReportLinks
{
    private readonly string _from;
    private readonly Func<ObjectRef, string> _pathOf;

    private ReportLinks(string fromDirectory, Func<ObjectRef, string> pathOf) => (_from, _pathOf) = (fromDirectory, pathOf);

    /// <summary>For a report stored as <paramref name="report"/> in the object store, beside the products.</summary>
    public static ReportLinks InStore(ObjectRef report)
    {
        // Bucket and key as a path under a virtual root: "/{bucket}/{key}".
        static string Virtual(ObjectRef r) => $"/{r.Bucket}/{r.Key}";
        return new ReportLinks(Path.GetDirectoryName(Virtual(report))!, Virtual);
    }

    /// <summary>For a report written to a file outside the store, in embedded mode (the store is the directory <paramref name="storeRoot"/>).</summary>
    public static ReportLinks FromFile(string reportFile, string storeRoot) =>
        new(Path.GetDirectoryName(Path.GetFullPath(reportFile))!, r => Path.Combine(Path.GetFullPath(storeRoot), r.Bucket, r.Key));

    public string Href(ObjectRef target)
    {
        var relative = Path.GetRelativePath(_from, _pathOf(target)).Replace('\\', '/');
        return string.Join('/', relative.Split('/').Select(Uri.EscapeDataString));
    }
}
