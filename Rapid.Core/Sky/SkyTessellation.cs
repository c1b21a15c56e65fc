namespace Rapid.Core.Sky;

/// <summary>
/// The iso-latitude tessellation of the sky into "fields", mirroring the SkyMap "Roman tessellation"
/// (D. Fadda, github.com/darioflute/skymap, <c>romantessellation(NSIDE)</c>) that the original RAPID
/// used with NSIDE = 512. Computed in code: no downloaded table.
/// </summary>
/// <remarks>
/// <para><b>Rule.</b> The sky is cut into 4·NSIDE + 1 declination bands k = 0 .. 4·NSIDE, north to south.
/// Band k is centred on HEALPix ring k (Górski et al. 2005): with the ring coordinate i (0 at the north
/// pole, 2·NSIDE on the equator, 4·NSIDE at the south pole),
/// sin(dec) = 1 − i²/(3·NSIDE²) for i ≤ NSIDE, 2(2·NSIDE − i)/(3·NSIDE) for NSIDE ≤ i ≤ 3·NSIDE, and the
/// mirror image in the south. Band k spans i in [k − ½, k + ½] (clipped at the poles), so bands have
/// equal height in i, i.e. nearly equal area, not equal height in Dec: near the equator a band is
/// 2/(3·NSIDE) rad = 0.0746° high for NSIDE 512.</para>
/// <para>Bands 0 and 4·NSIDE are single round caps (Dec beyond ±(90° − 0.0457°) for NSIDE 512). Band k in
/// between has 8·min(k, NSIDE, 4·NSIDE − k) RA bins of equal width (twice the HEALPix ring's pixel count),
/// so 8·NSIDE = 4,096 bins of 0.0879° near the equator. Bin j is centred on RA j·w (w = 360°/bins) and
/// covers [(j − ½)·w, (j + ½)·w): the first bin straddles RA 0.</para>
/// <para><b>Counts.</b> 2 + 2·Σ_{k&lt;NSIDE} 8k + (2·NSIDE + 1)·8·NSIDE = 24·NSIDE² + 2 tiles: 6,291,458 in
/// 2,049 bands for NSIDE 512, and 2,402 for NSIDE 10, exactly the original's counts.</para>
/// <para><b>Numbering</b> (the original's rtid): 1 is the north cap, then band by band southwards,
/// RA ascending from the bin centred on 0 within a band; the last id is the south cap.</para>
/// <para><b>Edges.</b> A tile holds RA in [RaMin, RaMax) and Dec in [DecMin, DecMax) (the caps include
/// their pole). <see cref="FieldOf"/> compares against exactly the doubles <see cref="Tile"/> reports,
/// so a point on an edge always lands in the tile whose lower edge it is. The original looked tiles up
/// in a float32 copy of the table, so a point within ~1e-5° of an edge may get the neighbouring id.</para>
/// </remarks>
public sealed class SkyTessellation
{
    private static readonly Lazy<SkyTessellation> RomanInstance = new(() => new SkyTessellation(512));

    private readonly int _bandCount;
    // _bandFirstField[k] = field id of bin 0 of band k; one extra entry = TileCount + 1.
    private readonly long[] _bandFirstField;
    // _southEdgeDeg[k] = Dec of the boundary between band k and band k+1 (k = 0 .. 4·NSIDE − 1), descending.
    private readonly double[] _southEdgeDeg;
    private readonly double[] _centreDecDeg;

    /// <summary>The tessellation the original RAPID used for Roman: NSIDE 512, 6,291,458 fields.</summary>
    public static SkyTessellation Roman => RomanInstance.Value;

    public int Nside { get; }

    /// <summary>Number of tiles, 24·NSIDE² + 2; field ids are 1 .. TileCount.</summary>
    public long TileCount { get; }

    /// <summary>Number of declination bands including the two caps, 4·NSIDE + 1.</summary>
    public int BandCount => _bandCount;

    public SkyTessellation(int nside = 512)
    {
        if (nside < 1 || nside > 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(nside), nside, $"tessellation NSIDE {nside} must be between 1 and 2^20");
        Nside = nside;
        _bandCount = 4 * nside + 1;

        _bandFirstField = new long[_bandCount + 1];
        long next = 1;
        for (int k = 0; k < _bandCount; k++)
        {
            _bandFirstField[k] = next;
            next += BinsInBand(k);
        }
        _bandFirstField[_bandCount] = next;
        TileCount = next - 1;

        _southEdgeDeg = new double[_bandCount - 1];
        for (int k = 0; k < _southEdgeDeg.Length; k++)
            _southEdgeDeg[k] = RingLatitudeDeg(k + 0.5);
        _centreDecDeg = new double[_bandCount];
        for (int k = 0; k < _bandCount; k++)
            _centreDecDeg[k] = RingLatitudeDeg(k);
    }

    /// <summary>RA bins in band k (0-based from the north cap): 1 for the caps, else 8·min(k, NSIDE, 4·NSIDE − k).</summary>
    public int BinsInBand(int band)
    {
        if (band < 0 || band >= _bandCount)
            throw new ArgumentOutOfRangeException(nameof(band), band, $"band {band} is outside 0..{_bandCount - 1}");
        if (band == 0 || band == _bandCount - 1) return 1;
        return 8 * Math.Min(band, Math.Min(Nside, 4 * Nside - band));
    }

    /// <summary>The field (tile id) containing the point; RA in degrees, any value (wrapped); Dec in [-90, 90].</summary>
    public long FieldOf(double raDeg, double decDeg)
    {
        Healpix.CheckAngles(raDeg, decDeg);
        int band = BandOf(decDeg);
        int bins = BinsInBand(band);
        if (bins == 1) return _bandFirstField[band];
        return _bandFirstField[band] + BinOf(SphericalGeometry.NormalizeRaDeg(raDeg), bins);
    }

    /// <summary>The tile with this id (1 .. TileCount).</summary>
    public SkyTile Tile(long field)
    {
        CheckField(field);
        int band = BandOfField(field);
        int bins = BinsInBand(band);
        double decMin = band == _bandCount - 1 ? -90.0 : _southEdgeDeg[band];
        double decMax = band == 0 ? 90.0 : _southEdgeDeg[band - 1];
        if (bins == 1)
            return new SkyTile(field, 0.0, _centreDecDeg[band], 0.0, 360.0, decMin, decMax);
        int bin = (int)(field - _bandFirstField[band]);
        return new SkyTile(field, bin * (360.0 / bins), _centreDecDeg[band],
            BinLowerEdgeDeg(bin, bins), BinUpperEdgeDeg(bin, bins), decMin, decMax);
    }

    /// <summary>
    /// Every tile that intersects the cone of radius <paramref name="radiusDeg"/> around (raDeg, decDeg),
    /// ascending. Conservative: the radius is widened by 1e-6° so rounding never drops a tile, which may
    /// add a tile that only grazes the cone. Exact otherwise: for each band, the cone's RA half-width is
    /// maximised over the part of the band inside the cone's Dec range.
    /// </summary>
    public IReadOnlyList<long> FieldsWithin(double raDeg, double decDeg, double radiusDeg)
    {
        Healpix.CheckAngles(raDeg, decDeg);
        if (!(radiusDeg >= 0) || !double.IsFinite(radiusDeg))
            throw new ArgumentOutOfRangeException(nameof(radiusDeg), radiusDeg, $"cone radius {radiusDeg} deg must be a finite number >= 0");

        var fields = new List<long>();
        double r = radiusDeg + 1e-6;
        if (r >= 180.0)
        {
            for (long f = 1; f <= TileCount; f++) fields.Add(f);
            return fields;
        }

        double ra = SphericalGeometry.NormalizeRaDeg(raDeg);
        double coneDecMax = Math.Min(90.0, decDeg + r);
        double coneDecMin = Math.Max(-90.0, decDeg - r);
        int firstBand = BandOf(coneDecMax);
        int lastBand = BandOf(coneDecMin);
        for (int band = firstBand; band <= lastBand; band++)
        {
            int bins = BinsInBand(band);
            if (bins == 1)
            {
                fields.Add(_bandFirstField[band]);
                continue;
            }
            double lo = Math.Max(coneDecMin, _southEdgeDeg[band]);
            double hi = Math.Min(coneDecMax, _southEdgeDeg[band - 1]);
            double halfWidth = MaxRaHalfWidthDeg(decDeg, r, lo, hi);
            AddBins(fields, band, bins, ra - halfWidth, ra + halfWidth);
        }
        return fields;
    }

    /// <summary>
    /// The tiles sharing an edge or a corner with this one (ascending, without the tile itself). Exact:
    /// bin edges are compared as rationals, so tiles meeting at a single corner are included.
    /// Symmetric: b is a neighbour of a exactly when a is a neighbour of b.
    /// </summary>
    public IReadOnlyList<long> Neighbours(long field)
    {
        CheckField(field);
        int band = BandOfField(field);
        int bins = BinsInBand(band);
        var result = new SortedSet<long>();
        if (bins == 1)
        {
            int next = band == 0 ? 1 : band - 1;
            for (long f = _bandFirstField[next]; f < _bandFirstField[next + 1]; f++) result.Add(f);
            return result.ToList();
        }

        long bin = field - _bandFirstField[band];
        result.Add(_bandFirstField[band] + Mod(bin - 1, bins));
        result.Add(_bandFirstField[band] + Mod(bin + 1, bins));
        foreach (int other in new[] { band - 1, band + 1 })
        {
            long otherBins = BinsInBand(other);
            if (otherBins == 1)
            {
                result.Add(_bandFirstField[other]);
                continue;
            }
            // Bin j of a band with n bins covers [(2j-1)/(2n), (2j+1)/(2n)] turns. The closed intervals of
            // bin `bin` (n bins) and bin j' (n' bins) meet iff (2j'-1)n <= (2bin+1)n' and (2bin-1)n' <= (2j'+1)n.
            long n = bins, n2 = otherBins;
            long jMin = CeilDiv((2 * bin - 1) * n2 - n, 2 * n);
            long jMax = FloorDiv((2 * bin + 1) * n2 + n, 2 * n);
            if (jMax - jMin + 1 >= n2) { jMin = 0; jMax = n2 - 1; }
            for (long j = jMin; j <= jMax; j++) result.Add(_bandFirstField[other] + Mod(j, n2));
        }
        result.Remove(field);
        return result.ToList();
    }

    // Latitude (deg) at continuous ring coordinate i in [0, 4·NSIDE]; exactly antisymmetric about the equator.
    private double RingLatitudeDeg(double i)
    {
        double n = Nside;
        if (i > 2 * n) return -RingLatitudeDeg(4 * n - i);
        if (i <= n)
            // 1 - sin(dec) = i²/(3n²) = 2 sin²(colat/2), computed via colat for precision near the pole.
            return 90.0 - 2.0 * Math.Asin(i / (n * Math.Sqrt(6.0))) * SphericalGeometry.RadToDeg;
        return Math.Asin(2.0 * (2 * n - i) / (3.0 * n)) * SphericalGeometry.RadToDeg;
    }

    // Inverse of RingLatitudeDeg (approximate; BandOf corrects against the stored edges).
    private double RingCoordinate(double decDeg)
    {
        double n = Nside;
        double z = Math.Sin(decDeg * SphericalGeometry.DegToRad);
        if (z > 2.0 / 3.0)
            return n * Math.Sqrt(6.0) * Math.Sin((90.0 - decDeg) * 0.5 * SphericalGeometry.DegToRad);
        if (z < -2.0 / 3.0)
            return 4 * n - n * Math.Sqrt(6.0) * Math.Sin((90.0 + decDeg) * 0.5 * SphericalGeometry.DegToRad);
        return 2 * n - 1.5 * n * z;
    }

    // Band k holds Dec in [southEdge[k], southEdge[k-1]); the caps include their poles.
    private int BandOf(double decDeg)
    {
        int band = (int)Math.Floor(RingCoordinate(decDeg) + 0.5);
        band = Math.Clamp(band, 0, _bandCount - 1);
        while (band < _bandCount - 1 && decDeg < _southEdgeDeg[band]) band++;
        while (band > 0 && decDeg >= _southEdgeDeg[band - 1]) band--;
        return band;
    }

    private int BandOfField(long field)
    {
        int index = Array.BinarySearch(_bandFirstField, field);
        return index >= 0 ? index : ~index - 1;
    }

    // raDeg in [0, 360). Bin j holds [lower(j), lower(j+1)), bin 0 also [360 + lower(0), 360).
    private static int BinOf(double raDeg, int bins)
    {
        if (raDeg >= BinUpperEdgeDeg(bins - 1, bins)) return 0;
        int bin = Math.Clamp((int)Math.Floor(raDeg * bins / 360.0 + 0.5), 0, bins - 1);
        while (bin > 0 && raDeg < BinLowerEdgeDeg(bin, bins)) bin--;
        while (bin < bins - 1 && raDeg >= BinLowerEdgeDeg(bin + 1, bins)) bin++;
        return bin;
    }

    // (j - 1/2)·360/n, rounded once.
    private static double BinLowerEdgeDeg(int bin, int bins) => (2.0 * bin - 1.0) * 180.0 / bins;

    private static double BinUpperEdgeDeg(int bin, int bins) =>
        bin == bins - 1 ? 360.0 + BinLowerEdgeDeg(0, bins) : BinLowerEdgeDeg(bin + 1, bins);

    // Adds the bins of `band` overlapping RA [raLo, raHi] (may extend beyond 0..360).
    private void AddBins(List<long> fields, int band, int bins, double raLo, double raHi)
    {
        long jLo = (long)Math.Floor(raLo * bins / 360.0 + 0.5);
        long jHi = (long)Math.Floor(raHi * bins / 360.0 + 0.5);
        if (jHi - jLo + 1 >= bins)
        {
            for (long f = _bandFirstField[band]; f < _bandFirstField[band + 1]; f++) fields.Add(f);
            return;
        }
        var binsHit = new List<long>((int)(jHi - jLo + 1));
        for (long j = jLo; j <= jHi; j++) binsHit.Add(Mod(j, bins));
        binsHit.Sort();
        foreach (long j in binsHit) fields.Add(_bandFirstField[band] + j);
    }

    /// <summary>
    /// Largest RA half-width (deg) of the cone (centre Dec d, radius r) over latitudes [lo, hi] (within the
    /// cone's Dec range): 180 if the cone's section at some latitude there is a full circle.
    /// At latitude φ the section is |ΔRA| ≤ Δ with cos r = sin d sin φ + cos d cos φ cos Δ; Δ(φ) rises
    /// to a single maximum at sin φ = sin d / cos r, so the maximum is at an end or at that latitude.
    /// </summary>
    private static double MaxRaHalfWidthDeg(double d, double r, double lo, double hi)
    {
        double cosD = Math.Cos(d * SphericalGeometry.DegToRad);
        if (cosD < 1e-12) return 180.0; // centred on a pole
        double best = Math.Max(HalfWidthAt(d, r, lo), HalfWidthAt(d, r, hi));
        double sinPhiM = Math.Sin(d * SphericalGeometry.DegToRad) / Math.Cos(r * SphericalGeometry.DegToRad);
        if (Math.Abs(sinPhiM) <= 1.0)
        {
            double phiM = Math.Asin(sinPhiM) * SphericalGeometry.RadToDeg;
            if (phiM > lo && phiM < hi) best = Math.Max(best, HalfWidthAt(d, r, phiM));
        }
        return best;
    }

    // Haversine form, stable for small cones: sin²(Δ/2) = (sin²(r/2) − sin²((φ−d)/2)) / (cos d cos φ).
    private static double HalfWidthAt(double d, double r, double phi)
    {
        double denom = Math.Cos(d * SphericalGeometry.DegToRad) * Math.Cos(phi * SphericalGeometry.DegToRad);
        if (denom < 1e-15) return 180.0;
        double sinHalfR = Math.Sin(r * 0.5 * SphericalGeometry.DegToRad);
        double sinHalfDPhi = Math.Sin((phi - d) * 0.5 * SphericalGeometry.DegToRad);
        double s = (sinHalfR * sinHalfR - sinHalfDPhi * sinHalfDPhi) / denom;
        if (s >= 1.0) return 180.0;
        if (s <= 0.0) return 0.0;
        return 2.0 * Math.Asin(Math.Sqrt(s)) * SphericalGeometry.RadToDeg;
    }

    private void CheckField(long field)
    {
        if (field < 1 || field > TileCount)
            throw new ArgumentOutOfRangeException(nameof(field), field, $"field {field} is outside 1..{TileCount} for the NSIDE {Nside} tessellation");
    }

    private static long Mod(long a, long n) => ((a % n) + n) % n;
    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    private static long CeilDiv(long a, long b) => -FloorDiv(-a, b);
}
