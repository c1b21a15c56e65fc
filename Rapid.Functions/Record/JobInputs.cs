using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Functions.Record;

/// <summary>A file a job reads (OPM used), as its config names it, and what for (<c>fileused.role</c>).</summary>
/// <param name="Rid">The L2 image's rid, for an L2 input.</param>
/// <param name="Md5">The digest the config gives for it, if any.</param>
public sealed record JobInput(ObjectRef File, string Role, string Kind, long? Rid = null, string? Md5 = null);

/// <summary>
/// The files a job config says its job reads: the L2 images (the science image, the images to co-add), the registered
/// reference's files, the products a post-processing job stamps, the tables the night's recovery merges. Per-image PSF
/// files (<c>rapid diff</c> only; the plans never give them) are not recorded.
/// </summary>
public static class JobInputs
{
    /// <summary>Roles of the inputs that are not products (products keep their product role).</summary>
    public const string ScienceImage = "science";
    public const string CoaddInput = "coadd_input";
    public const string Config = "config";

    public static IReadOnlyList<JobInput> Of(JobSpec spec) => spec switch
    {
        ReferenceImageSpec r => r.Inputs.Select(i => L2(i, CoaddInput)).ToList(),
        ScienceSpec s => [L2(s.Science, ScienceImage), .. Reference(s.Reference)],
        PostProcessingSpec p => p.Products.Select(x => new JobInput(x.Source, x.Role, FileKinds.Product)).ToList(),
        NightRecoverySpec n => n.Tables.Select(t => new JobInput(t.File, ProductRoles.InjectionRecovery, FileKinds.Product)).ToList(),
        _ => throw new ArgumentException($"no inputs are known of a {spec.GetType().Name}"),
    };

    private static JobInput L2(L2Image image, string role) => new(image.File, role, FileKinds.L2, image.Rid, image.Md5);

    private static IEnumerable<JobInput> Reference(ReferenceSource r)
    {
        if (!r.IsRegistered) return r.Inputs.Select(i => L2(i, CoaddInput));
        return new (ObjectRef? File, string Role)[]
            {
                (r.Image, ProductRoles.ReferenceImage), (r.Coverage, ProductRoles.ReferenceCoverage), (r.Uncertainty, ProductRoles.ReferenceUncertainty),
            }
            .Where(x => x.File is not null).Select(x => new JobInput(x.File!, x.Role, FileKinds.Product));
    }
}
