using System.Data;
using Dapper;
using Rapid.Core.Sky;

namespace Rapid.Functions.OpsDatabase;

/// <summary>Sky columns shared by several tables: field, HEALPix indexes and unit vectors.</summary>
public static class SkyRows
{
    /// <summary>HEALPix NESTED orders the original stored: hp6 (nside 64) and hp9 (nside 512).</summary>
    public const int Hp6Nside = 64, Hp9Nside = 512;

    public static (long Hp6, long Hp9) HealpixOf(double raDeg, double decDeg) =>
        (Healpix.AngToPixNested(Hp6Nside, raDeg, decDeg), Healpix.AngToPixNested(Hp9Nside, raDeg, decDeg));

    /// <summary>Unit vector of (ra, dec) in degrees; angular distance is acos of a dot product.</summary>
    public static (double X, double Y, double Z) UnitVector(double raDeg, double decDeg)
    {
        var ra = raDeg * Math.PI / 180.0;
        var dec = decDeg * Math.PI / 180.0;
        return (Math.Cos(dec) * Math.Cos(ra), Math.Cos(dec) * Math.Sin(ra), Math.Sin(dec));
    }

    /// <summary>Inserts the <c>fields</c> rows (Roman tessellation tiles) not yet present.</summary>
    public static async Task EnsureFieldsAsync(IDbConnection conn, IDbTransaction tx, IEnumerable<long> fields)
    {
        var rows = fields.Distinct().Select(f =>
        {
            var t = SkyTessellation.Roman.Tile(f);
            var (hp6, hp9) = HealpixOf(t.CenterRaDeg, t.CenterDecDeg);
            return new { t.Field, t.CenterRaDeg, t.CenterDecDeg, t.RaMinDeg, t.RaMaxDeg, t.DecMinDeg, t.DecMaxDeg, hp6, hp9 };
        }).ToList();
        if (rows.Count == 0) return;
        await conn.ExecuteAsync("""
            insert into fields (field, ra0, dec0, ramin, ramax, decmin, decmax, hp6, hp9)
            select * from unnest(@f, @ra0, @dec0, @ramin, @ramax, @decmin, @decmax, @hp6, @hp9)
            on conflict (field) do nothing
            """,
            new
            {
                f = rows.Select(r => r.Field).ToArray(),
                ra0 = rows.Select(r => r.CenterRaDeg).ToArray(),
                dec0 = rows.Select(r => r.CenterDecDeg).ToArray(),
                ramin = rows.Select(r => r.RaMinDeg).ToArray(),
                ramax = rows.Select(r => r.RaMaxDeg).ToArray(),
                decmin = rows.Select(r => r.DecMinDeg).ToArray(),
                decmax = rows.Select(r => r.DecMaxDeg).ToArray(),
                hp6 = rows.Select(r => r.hp6).ToArray(),
                hp9 = rows.Select(r => r.hp9).ToArray(),
            }, tx);
    }
}
