namespace Rapid.Core.Storage;

public sealed class ObjectNotFoundException(ObjectRef missing)
    : FileNotFoundException($"object {missing} does not exist")
{
    public ObjectRef Missing { get; } = missing;
}
