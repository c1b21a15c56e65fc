using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Rapid.Functions.OpsDatabase;

/// <summary>One schema migration: an embedded <c>V{version}__{name}.sql</c> resource.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

/// <summary>
/// Applies the embedded migrations in version order. Each runs in its own transaction and is
/// recorded in <c>schema_migrations</c>; a session advisory lock keeps concurrent runners apart;
/// an applied migration whose text changed stops everything (the schema would no longer match it).
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, Action<string>? log = null)
{
    /// <summary>Arbitrary constant naming "rapid schema migrations" for pg_advisory_lock.</summary>
    private const long AdvisoryLockKey = 0x5241504944_4D4947; // "RAPIDMIG"

    private readonly Action<string> _log = log ?? (_ => { });

    public static IReadOnlyList<Migration> Embedded(Assembly? assembly = null)
    {
        assembly ??= typeof(MigrationRunner).Assembly;
        var list = new List<Migration>();
        foreach (var res in assembly.GetManifestResourceNames())
        {
            var m = ResourceName().Match(res);
            if (!m.Success) continue;
            using var stream = assembly.GetManifestResourceStream(res)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(new Migration(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value, reader.ReadToEnd()));
        }
        var dup = list.GroupBy(x => x.Version).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new InvalidOperationException($"two migrations have version {dup.Key}");
        return list.OrderBy(x => x.Version).ToList();
    }

    /// <summary>Applies what is pending; returns the versions applied (empty when up to date).</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(IReadOnlyList<Migration>? migrations = null, CancellationToken ct = default)
    {
        migrations ??= Embedded();
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await conn.ExecuteAsync("select pg_advisory_lock(@key)", new { key = AdvisoryLockKey });
        try
        {
            await conn.ExecuteAsync("""
                create table if not exists schema_migrations (
                  version integer primary key,
                  name text not null,
                  checksum text not null,
                  applied_at timestamptz not null default now())
                """);
            var applied = (await conn.QueryAsync<(int Version, string Name, string Checksum)>(
                "select version, name, checksum from schema_migrations")).ToDictionary(r => r.Version);
            foreach (var (version, row) in applied)
            {
                var m = migrations.FirstOrDefault(x => x.Version == version);
                if (m is not null && m.Checksum != row.Checksum)
                    throw new InvalidOperationException(
                        $"migration V{version:000}__{row.Name} was changed after it was applied (checksum {row.Checksum[..12]} in the database, {m.Checksum[..12]} now): refusing to migrate");
            }
            var done = new List<int>();
            foreach (var m in migrations.Where(m => !applied.ContainsKey(m.Version)))
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                try
                {
                    await conn.ExecuteAsync(m.Sql, transaction: tx);
                }
                catch (PostgresException e)
                {
                    throw new InvalidOperationException($"migration V{m.Version:000}__{m.Name} failed: {e.MessageText} (line {Line(m.Sql, e.Position)})", e);
                }
                await conn.ExecuteAsync("insert into schema_migrations (version, name, checksum) values (@Version, @Name, @Checksum)",
                    new { m.Version, m.Name, m.Checksum }, tx);
                await tx.CommitAsync(ct);
                _log($"applied migration V{m.Version:000}__{m.Name}");
                done.Add(m.Version);
            }
            return done;
        }
        finally
        {
            await conn.ExecuteAsync("select pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
        }
    }

    private static int Line(string sql, int position) =>
        position <= 0 ? 0 : sql[..Math.Min(position, sql.Length)].Count(c => c == '\n') + 1;

    [GeneratedRegex(@"\.V(\d+)__([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex ResourceName();
}
