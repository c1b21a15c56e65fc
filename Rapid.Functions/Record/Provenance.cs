using Dapper;
using Npgsql;
using Rapid.Core.Storage;

namespace Rapid.Functions.Record;

/// <summary>A registered file (<c>files</c>), with the database ids of the product it is, if any.</summary>
public sealed record RecordedFile
{
    public long FileId { get; init; }
    public string Uri { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? Role { get; init; }
    public long? SizeBytes { get; init; }
    public string? Sha256 { get; init; }
    public string? Md5 { get; init; }
    public string Status { get; init; } = "";
    public string? StatusReason { get; init; }
    /// <summary>The L2 image it is (rid), the difference image (pid) or reference image (rfid) whose registered file it is.</summary>
    public long? Rid { get; init; }
    public long? Pid { get; init; }
    public long? Rfid { get; init; }
    /// <summary>The attempt that generated it (null: a file no job wrote, e.g. an L2 image or a job config).</summary>
    public long? Jid { get; init; }
    public int? Attempt { get; init; }
}

/// <summary>The attempt that generated a file (OPM wasGeneratedBy) and how it ran.</summary>
public sealed record GeneratingAttempt
{
    public long Jid { get; init; }
    public int Attempt { get; init; }
    public int Ppid { get; init; }
    public DateOnly ProcDate { get; init; }
    public long? RunId { get; init; }
    public string? Tag { get; init; }
    public int? ExitCode { get; init; }
    public DateTime? Started { get; init; }
    public DateTime? Ended { get; init; }
    public double? WallSeconds { get; init; }
    public double? CpuSeconds { get; init; }
    public string? Host { get; init; }
    public string? BatchJobId { get; init; }
    public string? Software { get; init; }
    public string? GitCommit { get; init; }
    public string? ConfigSha256 { get; init; }
}

/// <summary>A file, the attempt that made it, and the files it was derived from (each with its own provenance).</summary>
public sealed record ProvenanceNode(RecordedFile File, GeneratingAttempt? MadeBy, IReadOnlyList<ProvenanceNode> DerivedFrom);

/// <summary>
/// Provenance of a product down to the L2 images (<c>rapid provenance</c>): the file's ancestry through
/// <c>filederived</c> (OPM wasDerivedFrom), each file with the attempt that generated it. What a target names:
/// <c>pid:N</c> (a difference image), <c>rfid:N</c> (a reference image), <c>rid:N</c> (an L2 image), an object URI
/// (<c>s3://bucket/key</c>), or a file name (the end of one registered key).
/// </summary>
public sealed class Provenance(NpgsqlDataSource dataSource)
{
    /// <summary>Deepest ancestry followed (a difference image of a stamped reference of L2 images is 4 deep).</summary>
    public const int MaxDepth = 16;

    public async Task<ProvenanceNode> TreeAsync(string target, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var root = await ResolveAsync(conn, target, ct);
        var files = (await conn.QueryAsync<RecordedFile>(new CommandDefinition($"""
            with recursive ancestry(fileid, depth) as (
              select @root::bigint, 0
              union
              select d.parent, a.depth + 1 from filederived d join ancestry a on d.child = a.fileid where a.depth < {MaxDepth})
            select distinct on (f.fileid) {FileColumns}
            from ancestry a join files f on f.fileid = a.fileid
            """, new { root }, cancellationToken: ct))).ToDictionary(f => f.FileId);
        var edges = (await conn.QueryAsync<(long Child, long Parent)>(new CommandDefinition(
            "select child, parent from filederived where child = any(@ids) and parent = any(@ids) order by child, parent",
            new { ids = files.Keys.ToArray() }, cancellationToken: ct))).ToLookup(e => e.Child, e => e.Parent);
        var makers = (await conn.QueryAsync<GeneratingAttempt>(new CommandDefinition("""
            select a.jid, a.attempt, a.ppid, a.procdate, a.runid, a.tag, a.exitcode, a.started, a.ended, a.wallseconds, a.cpuseconds,
                   a.host, a.batchjobid, a.software, a.gitcommit, a.configsha256
            from attempts a join files f on f.jid = a.jid and f.attempt = a.attempt where f.fileid = any(@ids)
            """, new { ids = files.Keys.ToArray() }, cancellationToken: ct))).DistinctBy(a => (a.Jid, a.Attempt)).ToDictionary(a => (a.Jid, a.Attempt));
        return Build(root, []);

        ProvenanceNode Build(long id, HashSet<long> path)
        {
            path.Add(id);
            var parents = edges[id].Where(p => files.ContainsKey(p) && !path.Contains(p))
                .Select(p => Build(p, path)).OrderBy(n => n.File.Kind).ThenBy(n => n.File.Uri, StringComparer.Ordinal).ToList();
            path.Remove(id);
            var file = files[id];
            return new ProvenanceNode(file, file is { Jid: { } jid, Attempt: { } n } ? makers.GetValueOrDefault((jid, n)) : null, parents);
        }
    }

    private const string FileColumns = """
        f.fileid, f.uri, f.kind, f.role, f.sizebytes, f.sha256, f.md5, f.status, f.statusreason, f.rid, f.jid, f.attempt,
        (select d.pid from diffimages d where d.filename = f.uri limit 1) as pid, (select r.rfid from refimages r where r.filename = f.uri limit 1) as rfid
        """;

    /// <summary>The file a target names; ArgumentException naming the target when there is none (or more than one).</summary>
    private static async Task<long> ResolveAsync(NpgsqlConnection conn, string target, CancellationToken ct)
    {
        var (sql, arg, what) = target switch
        {
            _ when Id(target, "pid:") is { } pid =>
                ("select f.fileid from diffimages d join files f on f.uri = d.filename where d.pid = @arg order by f.status = 'kept' desc, f.fileid desc",
                    (object)pid, $"difference image pid {pid}"),
            _ when Id(target, "rfid:") is { } rfid =>
                ("select f.fileid from refimages r join files f on f.uri = r.filename where r.rfid = @arg order by f.status = 'kept' desc, f.fileid desc",
                    rfid, $"reference image rfid {rfid}"),
            _ when Id(target, "rid:") is { } rid =>
                ("select f.fileid from files f where f.rid = @arg order by f.status = 'kept' desc, f.fileid desc", rid, $"L2 image rid {rid}"),
            _ when ObjectRef.TryParse(target, out _) =>
                ("select fileid from files where uri = @arg order by status = 'kept' desc, fileid desc", target, target),
            _ when !target.Contains(':') && target.Length > 0 =>
                ("select fileid from files where uri like '%/' || @arg order by status = 'kept' desc, fileid desc", target, $"a file named {target}"),
            _ => throw new ArgumentException($"'{target}' names no file: give pid:N, rfid:N, rid:N, s3://bucket/key or a file name"),
        };
        var ids = (await conn.QueryAsync<long>(new CommandDefinition(sql, new { arg }, cancellationToken: ct))).ToList();
        if (ids.Count == 0) throw new ArgumentException($"{what} is not in the file registry of the ops database");
        if (sql.Contains("like", StringComparison.Ordinal) &&
            (await conn.QueryAsync<string>(new CommandDefinition("select distinct uri from files where fileid = any(@ids)", new { ids }, cancellationToken: ct))).Count() > 1)
            throw new ArgumentException($"{what}: more than one registered file has this name; give its s3:// URI");
        return ids[0];
    }

    private static long? Id(string target, string prefix) =>
        target.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && long.TryParse(target[prefix.Length..], out var id) && id > 0 ? id : null;
}
