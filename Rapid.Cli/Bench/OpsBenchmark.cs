using System.Diagnostics;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Bench;

/// <summary>What <c>rapid bench ops</c> measured. The original took 1183-1344 s to launch and 415-462 s to register 2069 jobs.</summary>
/// <param name="PlanScience">PlanScienceJobs: candidate query, job rows and every job config written.</param>
/// <param name="Register">RegisterCompletedJobs over the job list: every manifest read, job closed, products registered.</param>
/// <param name="RegisterAgain">The same manifests registered again (idempotent: no new rows).</param>
public sealed record OpsBenchmarkReport(
    int Jobs,
    string Database,
    TimeSpan Setup,
    TimeSpan PlanScience,
    int Planned,
    TimeSpan Register,
    int Registered,
    TimeSpan RegisterAgain);

/// <summary>
/// Times the two operations steps that dominated the original's night outside the pipeline: planning
/// the science jobs and registering their manifests. Runs in a scratch database it creates next to the
/// given one (never in the ops data) and drops afterwards; objects go under a procdate of their own
/// and are deleted afterwards.
/// </summary>
public static class OpsBenchmark
{
    private const int ScasPerExposure = 18;
    private static readonly string[] Filters = ["H158", "J129"];
    private static readonly ProcessingDate ProcDate = ProcessingDate.Parse("20991231");

    public static async Task<OpsBenchmarkReport> RunAsync(string connectionString, IObjectStore store, int jobs,
        Action<string>? progress = null, bool keepDatabase = false, CancellationToken ct = default)
    {
        if (jobs < 1) throw new ArgumentOutOfRangeException(nameof(jobs), jobs, $"--jobs {jobs}: must be at least 1");
        progress ??= _ => { };
        var keys = new ObjectKeys(Buckets.FromEnvironment());
        await using var scratch = await ScratchDatabase.CreateAsync(connectionString, "ops", ct);
        scratch.Keep = keepDatabase;
        try
        {
            var ds = scratch.DataSource;
            var sw = Stopwatch.StartNew();
            var window = await CreateSurveyAsync(ds, store, keys, jobs, progress, ct);
            var setup = sw.Elapsed;
            progress($"setup: {jobs} L2 images with registered references in {setup.TotalSeconds:F1} s");

            var options = new PlanningOptions { TileNaxis1 = 1024, TileNaxis2 = 1024 };
            sw.Restart();
            var plan = await new PlanScienceJobs(ds, store, keys, options).PlanAsync(window, ProcDate, ct);
            var planTime = sw.Elapsed;
            progress($"plan science: {plan.ArraySize} jobs in {planTime.TotalSeconds:F3} s");

            await WriteManifestsAsync(store, keys, plan, ct);
            var register = new RegisterCompletedJobs(ds, store, keys);
            sw.Restart();
            var report = await register.RegisterJobListAsync(plan.JobList!, ct: ct);
            var registerTime = sw.Elapsed;
            if (report.Failures.Count > 0)
                throw new InvalidOperationException($"bench: {report.Failures.Count} registrations failed, first: {report.Failures[0].Message}");
            progress($"register: {report.Registered} manifests in {registerTime.TotalSeconds:F3} s");
            sw.Restart();
            await register.RegisterJobListAsync(plan.JobList!, ct: ct);
            var againTime = sw.Elapsed;

            return new OpsBenchmarkReport(jobs, keepDatabase ? scratch.Name : $"{scratch.Name} (dropped)", setup, planTime, plan.ArraySize,
                registerTime, report.Registered, againTime);
        }
        finally
        {
            if (!keepDatabase)
                foreach (var bucket in new[] { keys.Buckets.Pipeline, keys.Buckets.Products })
                    await foreach (var obj in store.ListAsync(bucket, $"{ProcDate}/", CancellationToken.None))
                        await store.DeleteAsync(obj, CancellationToken.None);
        }
    }

    /// <summary>
    /// <paramref name="jobs"/> tonight's images (18 SCAs per exposure, one sky tile per exposure, two
    /// filters), 3 earlier images per (tile, filter), and a registered reference for each, made by the
    /// real steps (plan references, manifests, registration). Returns tonight's window.
    /// </summary>
    private static async Task<ObservationWindow> CreateSurveyAsync(NpgsqlDataSource ds, IObjectStore store, ObjectKeys keys, int jobs,
        Action<string> progress, CancellationToken ct)
    {
        var night = new DateTime(2099, 12, 31, 4, 0, 0, DateTimeKind.Utc);
        var exposures = (jobs + ScasPerExposure - 1) / ScasPerExposure;
        var tiles = SkyTessellation.Roman;
        var tonight = new List<L2FileRegistration>(jobs);
        var earlier = new List<L2FileRegistration>();
        var t = 0;
        for (var e = 0; e < exposures; e++)
        {
            // Pointings spread over the sky, including across RA 0/360.
            var tile = tiles.Tile(tiles.FieldOf((e * 7.3 + 355) % 360, -60 + e * 97.0 / exposures));
            var filter = Filters[e % Filters.Length];
            for (var s = 1; s <= ScasPerExposure && tonight.Count < jobs; s++)
                tonight.Add(Image(keys, tile, filter, s, night.AddSeconds(t++), s * 0.001));
            for (var i = 0; i < 3; i++)
                earlier.Add(Image(keys, tile, filter, 1 + i, night.AddDays(-30 - i).AddSeconds(t++), 0.002 * (i + 1)));
        }
        var ingest = new RegisterSurveyImages(ds);
        await ingest.RegisterAsync(earlier, ct);
        await ingest.RegisterAsync(tonight, ct);
        var window = new ObservationWindow(night.AddHours(-1), night.AddHours(12));
        var refPlan = await new PlanReferenceImages(ds, store, keys, new PlanningOptions { TileNaxis1 = 1024, TileNaxis2 = 1024 }).PlanAsync(window, ProcDate, ct);
        await WriteManifestsAsync(store, keys, refPlan, ct);
        var registered = await new RegisterCompletedJobs(ds, store, keys).RegisterJobListAsync(refPlan.JobList!, ct: ct);
        progress($"setup: {registered.ReferenceImages} reference images registered");
        return window;
    }

    private static L2FileRegistration Image(ObjectKeys keys, SkyTile tile, string filter, int sca, DateTime dateObs, double offsetDeg)
    {
        var ra = SphericalGeometry.NormalizeRaDeg(tile.CenterRaDeg + offsetDeg);
        var dec = tile.CenterDecDeg;
        var cosDec = Math.Max(Math.Cos(dec * Math.PI / 180), 1e-3);
        SkyPoint Corner(double dx, double dy) => new(SphericalGeometry.NormalizeRaDeg(ra + dx * 0.0625 / cosDec), Math.Clamp(dec + dy * 0.0625, -90, 90));
        var name = $"bench/{dateObs:yyyyMMddHHmmss}_sca{sca:00}.fits";
        return new L2FileRegistration
        {
            DateObs = dateObs, MjdObs = 40587.0 + (dateObs - DateTime.UnixEpoch).TotalDays, Filter = filter, ExpTime = 139.8, Sca = sca,
            Target = new SkyPoint(tile.CenterRaDeg, tile.CenterDecDeg), File = keys.L2File(name),
            Md5 = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(name))),
            Naxis1 = 4088, Naxis2 = 4088,
            Wcs = new L2Wcs("RA---TAN", "DEC--TAN", ra, dec, 2044.5, 2044.5, -3.0556e-5, 0, 0, 3.0556e-5),
            Center = new SkyPoint(ra, dec),
            Corners = [Corner(-1, -1), Corner(1, -1), Corner(1, 1), Corner(-1, 1)],
        };
    }

    /// <summary>The manifest each planned job would write on success (what a pipeline job ends with).</summary>
    private static async Task WriteManifestsAsync(IObjectStore store, ObjectKeys keys, PlanResult plan, CancellationToken ct)
    {
        if (plan.JobList is null) return;
        var list = await Contract.ReadAsync<JobList>(store, plan.JobList, ct);
        await Parallel.ForEachAsync(list.Jobs, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (job, token) =>
        {
            var bytes = await store.GetBytesAsync(job.Config, token);
            var config = Contract.Deserialize<JobConfig>(bytes, job.Config.ToString());
            var configSha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            ProductFile P(string role, string file) =>
                new(role, keys.Product(ProcDate, job.Jid, file), FileChecksum.Of(System.Text.Encoding.UTF8.GetBytes($"{job.Jid}/{file}")));
            var started = DateTimeOffset.UtcNow;
            var products = config.Spec is ReferenceImageSpec
                ? new List<ProductFile>
                {
                    P(ProductRoles.ReferenceImage, "refimage.fits"), P(ProductRoles.ReferenceCoverage, "refimage_cov.fits"),
                    P(ProductRoles.ReferenceUncertainty, "refimage_uncert.fits"), P(ProductRoles.ReferenceCatalog, "refimage_catalog.fits"),
                }
                : [P(ProductRoles.DifferenceImage, "diffimage.fits"), P(ProductRoles.DifferenceUncertainty, "diffimage_uncert.fits"),
                   P(ProductRoles.DifferenceCatalog, "sources.fits")];
            JobOutcome outcome = config.Spec switch
            {
                ReferenceImageSpec r => new ReferenceImageOutcome
                {
                    Reference = new ReferenceImageResult
                    {
                        Field = r.Tile.Field, Fid = r.Inputs[0].Fid, InputRids = r.Inputs.Select(i => i.Rid).ToList(), NFrames = r.Inputs.Count,
                    },
                },
                ScienceSpec s => new ScienceOutcome
                {
                    Difference = new DifferenceImageResult { Rid = s.Science.Rid, Rfid = s.Reference.Rfid, NSources = 12, NPositive = 7, NNegative = 5 },
                },
                _ => throw new InvalidOperationException($"bench: no manifest for a {config.Spec.GetType().Name}"),
            };
            var m = new ProductManifest
            {
                Jid = job.Jid, Ppid = config.Ppid, ProcDate = config.ProcDate, ExitCode = ExitCodes.Success,
                Started = started, Ended = started.AddSeconds(1), Batch = new BatchRun { JobId = $"bench-{job.Jid}" },
                Software = new SoftwareInfo { Version = "bench" }, ConfigSha256 = configSha, Products = products, Outcome = outcome,
            };
            await Contract.WriteAsync(store, job.Manifest, m, token);
        });
    }
}
