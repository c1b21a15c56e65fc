namespace Rapid.Core.Storage;

/// <summary>
/// Writes a file through a temporary name in the same directory and renames it into place,
/// so a crash never leaves half a file under the final name.
/// </summary>
public static class AtomicFile
{
    private const string TempMarker = ".rapid-tmp-";

    public static async Task WriteAsync(string path, Func<string, Task> writeTemporary)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = TemporaryNameFor(full);
        try
        {
            await writeTemporary(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    public static void Write(string path, Action<string> writeTemporary) =>
        WriteAsync(path, tmp => { writeTemporary(tmp); return Task.CompletedTask; }).GetAwaiter().GetResult();

    public static string TemporaryNameFor(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, $"{TempMarker}{Guid.NewGuid():N}-{Path.GetFileName(path)}");

    public static bool IsTemporary(string path) => Path.GetFileName(path).StartsWith(TempMarker, StringComparison.Ordinal);
}
