using Dapper;
using Npgsql;

namespace Rapid.Functions.OpsDatabase;

/// <summary>Versioned product tables (each with version and vbest per natural key).</summary>
public enum VersionedProduct { L2File, ReferenceImage, DifferenceImage }

/// <summary>
/// Locks and unlocks the best version of a product. vbest 2 = locked: a later version of the same
/// natural key never displaces it (it is registered with vbest 0). Locking a version that is not the
/// best makes it the locked best and demotes the previous best.
/// </summary>
public sealed class ProductVersions(NpgsqlDataSource dataSource)
{
    public async Task LockAsync(VersionedProduct kind, long id, CancellationToken ct = default) => await SetAsync(kind, id, true, ct);

    /// <summary>Unlocking leaves the version best (vbest 1); a later version will then displace it.</summary>
    public async Task UnlockAsync(VersionedProduct kind, long id, CancellationToken ct = default) => await SetAsync(kind, id, false, ct);

    public async Task<(int Version, int Vbest)> GetAsync(VersionedProduct kind, long id, CancellationToken ct = default)
    {
        var t = Table(kind);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(int Version, short Vbest)?>(
            $"select version, vbest from {t.Name} where {t.Id} = @id", new { id });
        return row is { } r ? (r.Version, r.Vbest) : throw new ArgumentException($"{t.Name} has no row {t.Id} = {id}");
    }

    private async Task SetAsync(VersionedProduct kind, long id, bool locked, CancellationToken ct)
    {
        var t = Table(kind);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Table and column names come from the fixed map below, never from input; values are bound.
        var key = await conn.QuerySingleOrDefaultAsync<string>(
            $"select concat_ws(':', '{t.Name}', {t.KeyColumns}) from {t.Name} where {t.Id} = @id", new { id }, tx)
            ?? throw new ArgumentException($"{t.Name} has no row {t.Id} = {id}");
        // The same lock the *_slot functions take, so a concurrent registration sees either state.
        await conn.ExecuteAsync("select pg_advisory_xact_lock(hashtextextended(@key, 0))", new { key }, tx);
        if (locked)
        {
            await conn.ExecuteAsync($"""
                update {t.Name} o set vbest = 0 from {t.Name} n
                where n.{t.Id} = @id and o.{t.Id} <> @id and o.vbest > 0 and {t.SameKey}
                """, new { id }, tx);
            await conn.ExecuteAsync($"update {t.Name} set vbest = 2 where {t.Id} = @id", new { id }, tx);
        }
        else
        {
            await conn.ExecuteAsync($"update {t.Name} set vbest = 1 where {t.Id} = @id and vbest = 2", new { id }, tx);
        }
        await tx.CommitAsync(ct);
    }

    private sealed record TableInfo(string Name, string Id, string KeyColumns, string SameKey);

    private static TableInfo Table(VersionedProduct kind) => kind switch
    {
        VersionedProduct.L2File => new("l2files", "rid", "expid, sca", "o.expid = n.expid and o.sca = n.sca"),
        VersionedProduct.ReferenceImage => new("refimages", "rfid", "field, fid, ppid", "o.field = n.field and o.fid = n.fid and o.ppid = n.ppid"),
        VersionedProduct.DifferenceImage => new("diffimages", "pid", "rid, ppid", "o.rid = n.rid and o.ppid = n.ppid"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
