using System.Text.Json;
using Rapid.Pipeline.Fits;

namespace Rapid.Cli.Bench.ImageSets;

/// <summary>
/// A source whose flux differs between the science epoch and the reference: X, Y 1-based FITS pixels of the science
/// image, RA/Dec degrees, fluxes DN/s (science minus reference is the sign and size D should show). SciencePsf and
/// ReferencePsf are its unit-flux profiles at its own sub-pixel phase with each epoch's PSF, as the renderer drew them
/// (square stamps, the source at the centre pixel plus its phase).
/// </summary>
public sealed record TrueChange(long Id, string Kind, double RaDeg, double DecDeg, double X, double Y,
    double ScienceFlux, double ReferenceFlux, float[] SciencePsf, float[] ReferencePsf)
{
    public double DifferenceFlux => ScienceFlux - ReferenceFlux;
}

/// <summary>A star of constant flux: X, Y 1-based science pixels, flux DN/s; Saturated when its core reaches the saturation level.</summary>
public sealed record TrueStar(long Id, double RaDeg, double DecDeg, double X, double Y, double Flux, bool Saturated);

/// <summary>
/// A rendered image set and its truth (imageset.json, truth.fits, the PSF stamp mosaics, coverage.fits): the same
/// format whatever made it, so <see cref="ImageSetScorer"/> scores every renderer (and our simulator) with one code.
/// </summary>
public sealed class ImageSet
{
    internal ImageSet(string directory, ImageSetManifest manifest, IReadOnlyList<TrueChange> changes, IReadOnlyList<TrueStar> stars,
        float[] coverage, int width, int height, int stampSize)
    {
        Directory = directory;
        Manifest = manifest;
        Changes = changes;
        Stars = stars;
        Coverage = coverage;
        Width = width;
        Height = height;
        StampSize = stampSize;
    }

    public string Directory { get; }
    public ImageSetManifest Manifest { get; }
    public IReadOnlyList<TrueChange> Changes { get; }
    public IReadOnlyList<TrueStar> Stars { get; }
    /// <summary>Reference frames covering each science pixel (row-major, 0-based).</summary>
    public float[] Coverage { get; }
    public int Width { get; }
    public int Height { get; }
    public int StampSize { get; }

    public string Science => Path.Combine(Directory, Manifest.Science);
    public IReadOnlyList<string> References => Manifest.References.Select(r => Path.Combine(Directory, r)).ToList();

    public static ImageSet Read(string directory)
    {
        var manifestPath = Path.Combine(directory, "imageset.json");
        var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(manifestPath), ImageSetJsonContext.Default.ImageSetManifest)
                       ?? throw new InvalidDataException($"{manifestPath}: empty");
        if (manifest.Schema != 1) throw new InvalidDataException($"{manifestPath}: schema {manifest.Schema} is not 1");
        var truthPath = Path.Combine(directory, manifest.Truth);
        var sciStamps = FitsFile.ReadImage(Path.Combine(directory, manifest.ScienceStamps));
        var refStamps = FitsFile.ReadImage(Path.Combine(directory, manifest.ReferenceStamps));
        var size = (int)(sciStamps.Header.GetLong("STAMPSZ") ?? throw new InvalidDataException($"{manifest.ScienceStamps}: no STAMPSZ"));
        var columns = (int)(sciStamps.Header.GetLong("STAMPCOL") ?? throw new InvalidDataException($"{manifest.ScienceStamps}: no STAMPCOL"));

        var d = FitsFile.ReadTable(truthPath, "DIFFERENCE");
        var (ids, kinds, ra, dec, x, y) = (d.GetLongs("ID"), d.GetStrings("KIND"), d.GetDoubles("RA"), d.GetDoubles("DEC"), d.GetDoubles("X"), d.GetDoubles("Y"));
        var (fs, fr, stamp) = (d.GetDoubles("FLUX_SCI"), d.GetDoubles("FLUX_REF"), d.GetLongs("STAMP"));
        var changes = Enumerable.Range(0, d.RowCount).Select(i => new TrueChange(ids[i], kinds[i].Trim(), ra[i], dec[i], x[i], y[i], fs[i], fr[i],
            Cell(sciStamps, (int)stamp[i], size, columns), Cell(refStamps, (int)stamp[i], size, columns))).ToList();

        var c = FitsFile.ReadTable(truthPath, "CONSTANT");
        var (cid, cra, cdec, cx, cy, cf, sat) = (c.GetLongs("ID"), c.GetDoubles("RA"), c.GetDoubles("DEC"), c.GetDoubles("X"), c.GetDoubles("Y"), c.GetDoubles("FLUX"), c.GetLongs("SATURATED"));
        var stars = Enumerable.Range(0, c.RowCount).Select(i => new TrueStar(cid[i], cra[i], cdec[i], cx[i], cy[i], cf[i], sat[i] != 0)).ToList();

        var coverage = FitsFile.ReadImage(Path.Combine(directory, manifest.Coverage));
        return new ImageSet(directory, manifest, changes, stars, coverage.Pixels, coverage.Width, coverage.Height, size);
    }

    private static float[] Cell(FitsImage mosaic, int index, int size, int columns)
    {
        var (col, row) = (index % columns, index / columns);
        var cell = new float[size * size];
        for (var j = 0; j < size; j++)
            for (var i = 0; i < size; i++) cell[j * size + i] = mosaic.Pixels[(row * size + j) * mosaic.Width + col * size + i];
        return cell;
    }
}
