namespace Rapid.Core.Contracts;

/// <summary>What a product file is, as named in manifests.</summary>
public static class ProductRoles
{
    public const string ReferenceImage = "refimage";
    public const string ReferenceCoverage = "refimage_cov";
    public const string ReferenceUncertainty = "refimage_uncert";
    public const string ReferenceCatalog = "refimage_catalog";
    public const string DifferenceImage = "diffimage";
    public const string DifferenceUncertainty = "diffimage_uncert";
    public const string DifferenceCatalog = "sources";
    public const string ScoreImage = "scorr";
    public const string DifferencePsf = "diffpsf";
    public const string ResampledReference = "refimage_resampled";
    /// <summary>A science job's injection-recovery table (FITS binary table, one row per injected source).</summary>
    public const string InjectionRecovery = "injrecov";
    /// <summary>The night's merged injection-recovery table (ppid 18).</summary>
    public const string NightRecovery = "night_injrecov";

    /// <summary>Every role a manifest may name.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        ReferenceImage, ReferenceCoverage, ReferenceUncertainty, ReferenceCatalog, DifferenceImage, DifferenceUncertainty,
        DifferenceCatalog, ScoreImage, DifferencePsf, ResampledReference, InjectionRecovery, NightRecovery,
    };
}
