using Npgsql;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Ingest;

/// <summary>What ingest did with one object: its registration, the header bytes it fetched and in how many ranged reads.</summary>
/// <param name="DateObs">The exposure's DATE-OBS as registered (null when refused).</param>
public sealed record ObjectIngested(ObjectRef Object, L2FileIngested Result, int HeaderRequests, long HeaderBytes, long SizeBytes,
    DateTime? DateObs = null);

/// <summary>
/// Registers an L2 file already in the object store where it is (the S3 ingest Lambda): its size by a HEAD, its FITS
/// headers by ranged reads only (<see cref="ObjectRangeStream"/>; a file shorter than its headers declare is refused
/// before anything else is read), then its checksum, then its exposure and l2files row through
/// <see cref="RegisterSurveyImages"/> (versions and vbest as the schema defines; the same object ingested again is the
/// same row). <c>l2files.checksum</c> is the MD5 of the whole file, which no header holds and which S3 does not keep for
/// every object (the ETag is an MD5 only for a single-part upload without SSE-KMS), so the object is streamed once
/// through MD5 and SHA-256 (<see cref="FileChecksum"/>) without being kept, after its headers were found usable; an
/// object whose size changed in between is refused. A refused object gets one line naming it and the problem, and
/// nothing is written.
/// </summary>
public sealed class ObjectL2FileIngest(IObjectStore store, NpgsqlDataSource database)
{
    public async Task<ObjectIngested> IngestAsync(ObjectRef obj, CancellationToken ct = default)
    {
        var reads = store as IRangedObjectReads
            ?? throw new InvalidOperationException($"the object store {store.GetType().Name} cannot read ranges");
        var name = obj.ToString();
        var size = await store.SizeAsync(obj, ct);
        using var header = new ObjectRangeStream(reads, obj, size);
        L2FileRegistration registration;
        try
        {
            registration = L2FileHeaderReader.Read(header, name, obj, md5: "");
        }
        catch (InvalidDataException e)
        {
            return new ObjectIngested(obj, new L2FileIngested(name, null, OneLine(e.Message)), header.Requests, header.BytesFetched, size);
        }
        FileChecksum checksum;
        await using (var body = await reads.OpenReadAsync(obj, ct))
            checksum = FileChecksum.Of(body);
        if (checksum.SizeBytes != size)
            return new ObjectIngested(obj, new L2FileIngested(name, null,
                $"{name}: the object changed while it was read ({size} bytes, then {checksum.SizeBytes}); it is ingested when its new version's event arrives"),
                header.Requests, header.BytesFetched, size);
        try
        {
            var registered = (await new RegisterSurveyImages(database).RegisterAsync([registration with { Md5 = checksum.Md5 }], ct)).Single();
            return new ObjectIngested(obj, new L2FileIngested(name, registered, null), header.Requests, header.BytesFetched, size, registration.DateObs);
        }
        catch (ArgumentException e)
        {
            return new ObjectIngested(obj, new L2FileIngested(name, null, $"{name}: {OneLine(e.Message)}"), header.Requests, header.BytesFetched, size);
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
