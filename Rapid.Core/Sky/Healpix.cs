namespace Rapid.Core.Sky;

/// <summary>
/// HEALPix pixel indexes in the NESTED scheme (Górski et al. 2005, ApJ 622, 759), matching
/// healpy <c>ang2pix(nside, ra, dec, nest=True, lonlat=True)</c> / <c>pix2ang</c>. The database keeps
/// hp6 (nside 64) and hp9 (nside 512) of each field centre, as the original did with healpy.
/// RA/Dec in degrees; pixels are 0-based, 0 .. 12·nside² − 1.
/// </summary>
/// <remarks>
/// The algorithm is the standard one of the HEALPix C/C++ library (ang2pix_nest / pix2ang_nest):
/// z = sin(dec); equatorial belt |z| ≤ 2/3 uses the two diagonal ring indexes, the polar caps use
/// the sqrt(3(1−|z|)) scaling; within a base face the (x, y) pixel coordinates are bit-interleaved.
/// Near the poles 1−|z| is computed as 2·sin²(colatitude/2) to keep precision (healpy does the same
/// through its "sth" argument). healpy itself is not installable here (no PyPI), so the tests use
/// values derived by hand from the paper's definitions plus exhaustive round trips.
/// </remarks>
public static class Healpix
{
    private const int MaxOrder = 29;

    // Ring index (in units of nside) of the southern vertex of each base face, and its phi index.
    private static readonly int[] JRll = [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
    private static readonly int[] JPll = [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];

    /// <summary>Number of pixels, 12·nside².</summary>
    public static long PixelCount(int nside)
    {
        CheckNside(nside);
        return 12L * nside * nside;
    }

    /// <summary>The NESTED pixel containing (raDeg, decDeg); RA is wrapped, Dec must be in [-90, 90].</summary>
    public static long AngToPixNested(int nside, double raDeg, double decDeg)
    {
        CheckNside(nside);
        CheckAngles(raDeg, decDeg);
        long n = nside;
        double z = Math.Sin(decDeg * SphericalGeometry.DegToRad);
        double za = Math.Abs(z);
        // tt in [0, 4): longitude in units of 90 degrees.
        double tt = SphericalGeometry.NormalizeRaDeg(raDeg) / 90.0;
        if (tt >= 4.0) tt = 0.0;

        int face;
        long ix, iy;
        if (za <= 2.0 / 3.0)
        {
            double temp1 = n * (0.5 + tt);
            double temp2 = n * (z * 0.75);
            long jp = (long)(temp1 - temp2); // index of the ascending edge line
            long jm = (long)(temp1 + temp2); // index of the descending edge line
            long ifp = jp / n;
            long ifm = jm / n;
            face = ifp == ifm ? (int)(ifp | 4) : ifp < ifm ? (int)ifp : (int)(ifm + 8);
            ix = jm & (n - 1);
            iy = n - (jp & (n - 1)) - 1;
        }
        else
        {
            int ntt = Math.Min(3, (int)tt);
            double tp = tt - ntt;
            // sqrt(3(1-|z|)) = sqrt(6)·sin(colatitude/2), colatitude from the nearer pole.
            double halfColat = (90.0 - Math.Abs(decDeg)) * 0.5 * SphericalGeometry.DegToRad;
            double tmp = n * Math.Sqrt(6.0) * Math.Sin(halfColat);
            long jp = Math.Min(n - 1, (long)(tp * tmp));
            long jm = Math.Min(n - 1, (long)((1.0 - tp) * tmp));
            if (z >= 0)
            {
                face = ntt;
                ix = n - jm - 1;
                iy = n - jp - 1;
            }
            else
            {
                face = ntt + 8;
                ix = jp;
                iy = jm;
            }
        }
        return face * n * n + Interleave(ix, iy);
    }

    /// <summary>The centre (degrees; RA in [0, 360)) of a NESTED pixel.</summary>
    public static (double RaDeg, double DecDeg) PixToAngNested(int nside, long pixel)
    {
        long npix = PixelCount(nside);
        if (pixel < 0 || pixel >= npix)
            throw new ArgumentOutOfRangeException(nameof(pixel), pixel,
                $"HEALPix pixel {pixel} is outside 0..{npix - 1} for nside {nside}");
        long n = nside;
        long npface = n * n;
        int face = (int)(pixel / npface);
        var (ix, iy) = Deinterleave(pixel % npface);

        long jr = JRll[face] * n - ix - iy - 1; // ring index, 1 .. 4n-1 from the north
        long nr;
        double decDeg;
        int kshift;
        if (jr < n)
        {
            nr = jr;
            decDeg = 90.0 - PolarColatitudeDeg(nr, n);
            kshift = 0;
        }
        else if (jr > 3 * n)
        {
            nr = 4 * n - jr;
            decDeg = PolarColatitudeDeg(nr, n) - 90.0;
            kshift = 0;
        }
        else
        {
            nr = n;
            double z = (2 * n - jr) * 2.0 / (3.0 * n);
            decDeg = Math.Asin(z) * SphericalGeometry.RadToDeg;
            kshift = (int)((jr - n) & 1);
        }

        long jp = (JPll[face] * nr + ix - iy + 1 + kshift) / 2;
        if (jp > 4 * n) jp -= 4 * n;
        if (jp < 1) jp += 4 * n;
        double raDeg = (jp - (kshift + 1) * 0.5) * (90.0 / nr);
        return (raDeg, decDeg);
    }

    // Colatitude of polar ring nr: 1 - z = nr²/(3n²) = 2 sin²(θ/2)  =>  θ = 2 asin(nr / (n√6)).
    private static double PolarColatitudeDeg(long nr, long n) =>
        2.0 * Math.Asin(nr / (n * Math.Sqrt(6.0))) * SphericalGeometry.RadToDeg;

    // x bits go to even bit positions, y bits to odd ones.
    private static long Interleave(long x, long y) => Spread(x) | (Spread(y) << 1);

    private static (long X, long Y) Deinterleave(long p) => (Compact(p), Compact(p >> 1));

    private static long Spread(long v)
    {
        ulong x = (ulong)v & 0xFFFFFFFFUL;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL;
        return (long)x;
    }

    private static long Compact(long v)
    {
        ulong x = (ulong)v & 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL;
        return (long)x;
    }

    private static void CheckNside(int nside)
    {
        if (nside < 1 || nside > (1 << MaxOrder) || (nside & (nside - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(nside), nside,
                $"HEALPix nside {nside} must be a power of 2 between 1 and 2^{MaxOrder} for the NESTED scheme");
    }

    internal static void CheckAngles(double raDeg, double decDeg)
    {
        if (!double.IsFinite(raDeg))
            throw new ArgumentOutOfRangeException(nameof(raDeg), raDeg, $"RA {raDeg} deg is not a finite number");
        if (!(decDeg >= -90.0 && decDeg <= 90.0))
            throw new ArgumentOutOfRangeException(nameof(decDeg), decDeg, $"Dec {decDeg} deg is outside [-90, 90]");
    }
}
