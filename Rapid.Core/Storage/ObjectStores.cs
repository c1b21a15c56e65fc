using Rapid.Core.Batch;

namespace Rapid.Core.Storage;

public static class ObjectStores
{
    /// <summary>The directory store when RAPID_STORE_ROOT is set (embedded mode), otherwise S3.</summary>
    public static IObjectStore FromEnvironment(Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        var root = lookup(BatchEnvironment.StoreRootVariable);
        return root is not null ? new DirectoryObjectStore(root) : new S3ObjectStore();
    }
}
