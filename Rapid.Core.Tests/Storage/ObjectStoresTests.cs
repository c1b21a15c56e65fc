using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Storage;

public sealed class ObjectStoresTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // The S3 branch is not exercised here: constructing the default S3 client resolves a region
    // and credentials from the machine, which tests must never depend on.
    [Fact]
    public void With_a_store_root_the_store_is_that_directory()
    {
        var root = _dir.Combine("objects");

        var store = ObjectStores.FromEnvironment(name => name == "RAPID_STORE_ROOT" ? root : null);

        var directory = Assert.IsType<DirectoryObjectStore>(store);
        Assert.Equal(root, directory.Root);
        Assert.True(Directory.Exists(root));
    }
}
