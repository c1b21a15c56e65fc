using Npgsql;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Ingest;

/// <summary>What ingest did with one file: registered (new or already known), or refused with one line saying why.</summary>
public sealed record L2FileIngested(string Path, L2FileRegistered? Registered, string? Problem)
{
    public bool Refused => Problem is not null;
}

/// <summary>
/// Registers real L2 files (<c>rapid ingest</c>, <c>rapid watch</c>): each file's header is read
/// (<see cref="L2FileHeaderReader"/>), the file goes into the data bucket, and its exposure and l2files row are registered
/// by <see cref="RegisterSurveyImages"/> (versions and vbest as the schema defines) in one transaction per file, so one
/// bad file never holds back or half-writes another. A file already inside the data bucket is registered where it is;
/// any other is stored under a key named by its MD5 (<c>l2/&lt;md5&gt;/&lt;name&gt;</c>), so the same bytes ingested again
/// reach the same object and the same row (idempotent), and two different files of one name never overwrite each other.
/// A file whose registration is refused leaves no object that this ingest created.
/// </summary>
public sealed class L2FileIngest(DirectoryObjectStore store, Buckets buckets, NpgsqlDataSource database)
{
    /// <summary>File names ingest takes from a directory: FITS, plain or gzip-compressed.</summary>
    public static readonly string[] Extensions = [".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz"];

    public static bool IsFitsName(string path)
    {
        var name = Path.GetFileName(path);
        // Dot files are files being written under a temporary name (rsync, the rename-into-place convention).
        return !name.StartsWith('.') && Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The files named, and the FITS files of the directories named (recursively, in name order); a missing path is bad input.</summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var given in paths)
        {
            var path = Path.GetFullPath(given);
            if (File.Exists(path)) files.Add(path);
            else if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(IsFitsName).Order(StringComparer.Ordinal));
            else throw new FileNotFoundException($"{given}: no such file or directory");
        }
        return files;
    }

    public async Task<L2FileIngested> IngestAsync(string path, CancellationToken ct = default)
    {
        var bucketDirectory = Path.Combine(store.Root, buckets.Data) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(path);
        var inStore = full.StartsWith(bucketDirectory, StringComparison.Ordinal);
        L2FileRegistration registration;
        try
        {
            // The key comes from the checksum the reader computes; read first with a provisional key, then name the object.
            registration = L2FileHeaderReader.Read(full, new ObjectRef(buckets.Data, "pending"));
        }
        catch (InvalidDataException e) { return new L2FileIngested(full, null, OneLine(e.Message)); }
        var file = inStore
            ? new ObjectRef(buckets.Data, Path.GetRelativePath(bucketDirectory, full).Replace(Path.DirectorySeparatorChar, '/'))
            : new ObjectRef(buckets.Data, $"l2/{registration.Md5}/{Path.GetFileName(full)}");
        registration = registration with { File = file };
        var created = !inStore && !await store.ExistsAsync(file, ct);
        if (created) await store.PutFileAsync(file, full, ct);
        try
        {
            var registered = (await new RegisterSurveyImages(database).RegisterAsync([registration], ct)).Single();
            // The same bytes under another name were registered before: the row names that object, so this copy goes.
            if (created && !registered.Inserted) await store.DeleteAsync(file, CancellationToken.None);
            return new L2FileIngested(full, registered, null);
        }
        catch (ArgumentException e)
        {
            if (created) await store.DeleteAsync(file, CancellationToken.None);
            return new L2FileIngested(full, null, $"{full}: {OneLine(e.Message)}");
        }
        catch
        {
            if (created) await store.DeleteAsync(file, CancellationToken.None);
            throw;
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
