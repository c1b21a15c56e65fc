namespace Rapid.Core.Tests.Support;

/// <summary>The repository's own files, for tests that check conventions or run its tools.</summary>
public static class RepositoryFiles
{
    /// <summary>The directory holding Rapid.slnx, found upwards from the test binaries.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Rapid.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no Rapid.slnx above {AppContext.BaseDirectory}");
    }
}
