namespace Rapid.Pipeline.Fits;

/// <summary>
/// The units Rapid writes into BUNIT and TUNITn, declared once, each one that astropy.units parses in its FITS format
/// (FITS Standard 4.0, section 4.3): count rates are 'adu/s' (the detector's data number per second, ADU being the FITS
/// name for DN), pixel positions 'pix', angles 'deg', magnitudes 'mag'; counts of frames and significances in sigma are
/// dimensionless (an empty BUNIT, the comment saying what the number is).
/// </summary>
public static class ProductUnits
{
    public const string Rate = "adu/s";
    public const string Pixel = "pix";
    public const string Degree = "deg";
    public const string Magnitude = "mag";
    public const string Dimensionless = "";

    /// <summary>Sets BUNIT with a comment saying what a dimensionless value counts.</summary>
    public static void SetBunit(FitsHeader header, string unit, string comment)
    {
        ArgumentNullException.ThrowIfNull(header);
        header.Set("BUNIT", unit, comment);
    }
}
