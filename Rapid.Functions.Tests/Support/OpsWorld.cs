using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Support;

/// <summary>
/// A fresh migrated database and an object store in a temp directory, with helpers that make L2
/// registrations and product manifests the way the ingest and the pipeline would.
/// </summary>
public sealed class OpsWorld : IAsyncDisposable
{
    public static readonly DateTime Night = new(2028, 9, 7, 6, 0, 0, DateTimeKind.Utc);
    public static readonly ObservationWindow Window = new(new DateTime(2028, 9, 7, 0, 0, 0, DateTimeKind.Utc), new DateTime(2028, 9, 8, 0, 0, 0, DateTimeKind.Utc));
    public static readonly ProcessingDate ProcDate = ProcessingDate.Parse("20280907");

    /// <summary>The centre of the Roman sky tile that holds (ra, dec): images placed there lie well inside their tile.</summary>
    public static (double Ra, double Dec) TileCentre(double ra, double dec)
    {
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(ra, dec));
        return (t.CenterRaDeg, t.CenterDecDeg);
    }

    private int _exposureSeconds;

    private OpsWorld(NpgsqlDataSource ds, string root)
    {
        DataSource = ds;
        StoreRoot = root;
        Store = new DirectoryObjectStore(root);
        Keys = new ObjectKeys(Buckets.Default);
    }

    public NpgsqlDataSource DataSource { get; }
    public string StoreRoot { get; }
    public DirectoryObjectStore Store { get; }
    public ObjectKeys Keys { get; }

    /// <summary>A small grid so configs stay tiny; the default planning options are otherwise unchanged.</summary>
    public PlanningOptions Options { get; set; } = new() { TileNaxis1 = 512, TileNaxis2 = 512 };

    public static async Task<OpsWorld> CreateAsync(OpsDatabaseFixture db)
    {
        var ds = OpsDb.Create(await db.EmptySharedDatabaseAsync());
        var root = Path.Combine(Path.GetTempPath(), $"rapid-fn-store-{Guid.NewGuid():N}");
        return new OpsWorld(ds, root);
    }

    public RegisterSurveyImages Ingest => new(DataSource);
    public PlanReferenceImages PlanReferences => new(DataSource, Store, Keys, Options);
    public PlanScienceJobs PlanScience => new(DataSource, Store, Keys, Options);
    public PlanPostProcessing PlanPostProc => new(DataSource, Store, Keys, Options);
    public PlanNightRecovery PlanNight => new(DataSource, Store, Keys, Options);
    public RegisterCompletedJobs Register => new(DataSource, Store, Keys);
    public SummarizeNight Summarize => new(DataSource);
    public ProductVersions Versions => new(DataSource);

    /// <summary>An L2 image centred at (ra, dec) observed at <paramref name="dateObs"/>, with a unique DATE-OBS per exposure.</summary>
    public L2FileRegistration Image(double ra, double dec, DateTime dateObs, string filter = "H158", int sca = 1, string? md5 = null)
    {
        var t = dateObs.AddSeconds(Interlocked.Increment(ref _exposureSeconds));
        const double half = 0.0625; // ~4088 px * 0.11" / 2, deg
        var cosDec = Math.Max(Math.Cos(dec * Math.PI / 180), 1e-3);
        SkyPoint Corner(double dx, double dy) => new(SphericalGeometry.NormalizeRaDeg(ra + dx * half / cosDec), Math.Clamp(dec + dy * half, -90, 90));
        return new L2FileRegistration
        {
            DateObs = t, MjdObs = 40587.0 + (t - DateTime.UnixEpoch).TotalDays, Filter = filter, ExpTime = 139.8, Sca = sca,
            Target = new SkyPoint(ra, dec),
            File = Keys.L2File($"sim/{filter}/{t:yyyyMMddHHmmss}_sca{sca:00}.fits"),
            Md5 = md5 ?? Guid.NewGuid().ToString("N"),
            Naxis1 = 4088, Naxis2 = 4088,
            Wcs = new L2Wcs("RA---TAN", "DEC--TAN", ra, dec, 2044.5, 2044.5, -3.0556e-5, 0, 0, 3.0556e-5),
            Center = new SkyPoint(ra, dec),
            Corners = [Corner(-1, -1), Corner(1, -1), Corner(1, 1), Corner(-1, 1)],
        };
    }

    /// <summary>Registers <paramref name="count"/> earlier images (the night before the window) around a position.</summary>
    public async Task<IReadOnlyList<L2FileRegistered>> EarlierImagesAsync(double ra, double dec, int count, string filter = "H158", double spreadDeg = 0.01)
    {
        var imgs = Enumerable.Range(0, count)
            .Select(i => Image(SphericalGeometry.NormalizeRaDeg(ra + spreadDeg * (i + 1) / Math.Max(Math.Cos(dec * Math.PI / 180), 1e-3)), dec, Night.AddDays(-10 - i), filter, sca: 1 + i % 18))
            .ToList();
        return await Ingest.RegisterAsync(imgs);
    }

    public async Task<L2FileRegistered> TonightImageAsync(double ra, double dec, string filter = "H158", int sca = 1) =>
        (await Ingest.RegisterAsync([Image(ra, dec, Night, filter, sca)]))[0];

    public ProductFile Product(ProcessingDate procDate, long jid, string role, string name) =>
        new(role, Keys.Product(procDate, jid, name), FileChecksum.Of(ProductContent(role, jid)));

    /// <summary>The bytes of a test product file: its checksum is the one <see cref="Product"/> gives.</summary>
    public static byte[] ProductContent(string role, long jid) => System.Text.Encoding.UTF8.GetBytes($"{role} of job {jid}");

    /// <summary>The bytes of a test stamped copy: its checksum is the one a success manifest of a post-processing job gives.</summary>
    public static byte[] StampedContent(ObjectRef target) => System.Text.Encoding.UTF8.GetBytes($"stamped {target}");

    /// <summary>Writes the files a manifest names into the store, as its job would have: its products and stamped copies.</summary>
    public async Task WriteProductFilesAsync(ProductManifest manifest)
    {
        foreach (var p in manifest.Products) await Store.PutBytesAsync(p.File, ProductContent(p.Role, manifest.Jid));
        if (manifest.Outcome is PostProcessingOutcome post)
            foreach (var s in post.Stamped) await Store.PutBytesAsync(s.File, StampedContent(s.File));
    }

    /// <summary>
    /// The manifest a successful job of the given config would write (without running anything), with the config's
    /// SHA-256 as the job would have read it and the run's times just now (after the job was planned).
    /// </summary>
    public async Task<ProductManifest> WriteSuccessManifestAsync(JobConfig config, int exitCode = 0, int nsources = 7, IReadOnlyList<long>? coadded = null)
    {
        var pd = ProcessingDate.Parse(config.ProcDate);
        var products = new List<ProductFile>();
        ReferenceImageResult? reference = null;
        var inputs = config.Spec switch
        {
            ReferenceImageSpec r => r.Inputs,
            ScienceSpec { Reference.IsRegistered: false } s => s.Reference.Inputs,
            _ => null,
        };
        if (inputs is not null)
        {
            products.Add(Product(pd, config.Jid, ProductRoles.ReferenceImage, "refimage.fits"));
            products.Add(Product(pd, config.Jid, ProductRoles.ReferenceCoverage, "refimage_cov.fits"));
            products.Add(Product(pd, config.Jid, ProductRoles.ReferenceUncertainty, "refimage_uncert.fits"));
            products.Add(Product(pd, config.Jid, ProductRoles.ReferenceCatalog, "refimage_catalog.fits"));
            var rids = coadded ?? inputs.Select(i => i.Rid).ToList();
            reference = new ReferenceImageResult
            {
                Field = config.Spec is ReferenceImageSpec rs ? rs.Tile.Field : ((ScienceSpec)config.Spec).Tile!.Field,
                Fid = config.Spec is ReferenceImageSpec ? inputs[0].Fid : ((ScienceSpec)config.Spec).Science.Fid,
                InputRids = rids, NFrames = rids.Count, Cov5Percent = 2, NSources = 100,
            };
        }
        JobOutcome outcome;
        switch (config.Spec)
        {
            case ReferenceImageSpec:
                outcome = new ReferenceImageOutcome { Reference = reference! };
                break;
            case ScienceSpec s:
                products.Add(Product(pd, config.Jid, ProductRoles.DifferenceImage, "diffimage.fits"));
                products.Add(Product(pd, config.Jid, ProductRoles.DifferenceUncertainty, "diffimage_uncert.fits"));
                products.Add(Product(pd, config.Jid, ProductRoles.DifferenceCatalog, "sources.fits"));
                outcome = new ScienceOutcome
                {
                    Difference = new DifferenceImageResult { Rid = s.Science.Rid, Rfid = s.Reference.Rfid, NSources = nsources, NPositive = nsources, ScaleFactor = 1.01 },
                    CoaddedReference = reference,
                };
                break;
            case PostProcessingSpec p:
                outcome = new PostProcessingOutcome
                {
                    SourceJid = p.SourceJid,
                    Stamped = p.Products.Select(x => new StampedProduct
                    {
                        Role = x.Role, Source = x.Source, File = x.Target, Checksum = FileChecksum.Of(StampedContent(x.Target)),
                    }).ToList(),
                };
                break;
            case NightRecoverySpec n:
                products.Add(Product(pd, config.Jid, ProductRoles.NightRecovery, "night_injrecov.fits"));
                outcome = new NightRecoveryOutcome { Tables = n.Tables.Count };
                break;
            default:
                throw new ArgumentException($"no success manifest for a {config.Spec.GetType().Name}");
        }
        var manifest = await RunManifestAsync(config, exitCode) with { Products = products, Outcome = outcome };
        await Contract.WriteAsync(Store, Keys.Manifest(pd, config.Jid), manifest);
        return manifest;
    }

    /// <summary>The envelope a run of <paramref name="config"/> writes: its config's SHA-256 as stored, times just now, no products.</summary>
    public async Task<ProductManifest> RunManifestAsync(JobConfig config, int exitCode, string? reason = null)
    {
        var pd = ProcessingDate.Parse(config.ProcDate);
        var bytes = await Store.GetBytesAsync(Keys.JobConfig(pd, config.Jid));
        var started = DateTimeOffset.UtcNow;
        return new ProductManifest
        {
            Jid = config.Jid, Ppid = config.Ppid, ProcDate = config.ProcDate, ExitCode = exitCode, Reason = reason,
            Started = started, Ended = started.AddSeconds(42),
            Batch = new BatchRun { JobId = $"local-{config.Jid}" }, Software = new SoftwareInfo { Version = "test-sw-1" },
            ConfigSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            Settings = config.Settings,
        };
    }

    public async Task<IReadOnlyList<JobConfig>> ConfigsAsync(PlanResult plan)
    {
        if (plan.JobList is null) return [];
        var list = await Contract.ReadAsync<JobList>(Store, plan.JobList);
        return await Task.WhenAll(list.Jobs.Select(j => Contract.ReadAsync<JobConfig>(Store, j.Config)));
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        try { Directory.Delete(StoreRoot, recursive: true); } catch (IOException) { }
    }
}
