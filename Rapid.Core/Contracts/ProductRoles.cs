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
}
