using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Bench;

/// <summary>One timed operations step of the night: what it did, how long it took, on how many jobs or images.</summary>
/// <param name="Yardstick">The step's target and the original system's time, where there are any.</param>
/// <param name="Cpu">CPU seconds the step took in this process and in the database server (null: not measured).</param>
public sealed record OpsBenchStep(string Name, TimeSpan Elapsed, int Count, string? Yardstick = null, OpsCpu? Cpu = null);

/// <summary>What <c>rapid bench ops</c> measured. The original took 1183-1344 s to launch and 415-462 s to register 2069 jobs.</summary>
/// <param name="Steps">The timed steps, in the night's order (planning and registration of every stage, the ingest).</param>
/// <param name="ManifestBytes">Size of one science manifest as written (JSON), to show what registration reads.</param>
/// <param name="LoadAverage">The machine's 1-minute load average before and after (/proc/loadavg): the figures depend on it.</param>
public sealed record OpsBenchmarkReport(int Jobs, string Database, TimeSpan Setup, IReadOnlyList<OpsBenchStep> Steps, int ManifestBytes,
    (double Before, double After) LoadAverage)
{
    public OpsBenchStep Step(string name) => Steps.Single(s => s.Name == name);
}

/// <summary>
/// Times the operations side of a night at survey scale, on what a night really plans and registers: ingest of the
/// night's L2 files, then for each stage the plan step (candidate query, job rows, every job config written) and the
/// registration of the manifests its jobs write when they succeed (<see cref="NightManifests"/>: every product role,
/// injection-recovery, timelines; the same manifests as the pipeline's jobs write, as NightManifestsTests checks), and
/// registering the science manifests again (a redelivery: nothing may change). Runs in a scratch database it creates
/// next to the given one (never in the ops data) and drops afterwards; objects go under a procdate of their own and are
/// deleted afterwards.
/// </summary>
public static class OpsBenchmark
{
    public const string Ingest = "ingest tonight's L2 files (one transaction)";
    public const string PlanScience = "plan science jobs (query, job rows, configs)";
    public const string RegisterScience = "register science manifests";
    public const string RegisterScienceAgain = "register the science manifests again (redelivery: no change)";
    public const string PlanPostProcessing = "plan post-processing (stamping configs)";
    public const string RegisterPostProcessing = "register post-processing manifests (stamped products)";
    public const string PlanNightRecovery = "plan the night's recovery job";
    public const string RegisterNightRecovery = "register the night's recovery";
    public const string ExtraIngest = "ingest more L2 files (one transaction)";

    private const int ScasPerExposure = 18;
    private static readonly string[] Filters = ["H158", "J129"];
    private static readonly ProcessingDate ProcDate = ProcessingDate.Parse("20991231");

    public static async Task<OpsBenchmarkReport> RunAsync(string connectionString, IObjectStore store, int jobs,
        Action<string>? progress = null, bool keepDatabase = false, int extraIngest = 0, CancellationToken ct = default)
    {
        if (jobs < 1) throw new ArgumentOutOfRangeException(nameof(jobs), jobs, $"--jobs {jobs}: must be at least 1");
        if (extraIngest < 0) throw new ArgumentOutOfRangeException(nameof(extraIngest), extraIngest, $"--ingest {extraIngest}: must not be negative");
        var loadBefore = LoadAverage();
        progress ??= _ => { };
        var keys = new ObjectKeys(Buckets.FromEnvironment());
        await using var scratch = await ScratchDatabase.CreateAsync(connectionString, "ops", ct);
        scratch.Keep = keepDatabase;
        try
        {
            var ds = scratch.DataSource;
            var steps = new List<OpsBenchStep>();
            var cpu = await OpsCpuClock.CreateAsync(ds, ct);
            async Task<T> Timed<T>(string name, Func<Task<T>> action, Func<T, int> count, string? yardstick = null)
            {
                var (clock, cpuBefore) = (Stopwatch.StartNew(), cpu.Read());
                var result = await action();
                var (elapsed, used) = (clock.Elapsed, cpu.Read() - cpuBefore);
                steps.Add(new OpsBenchStep(name, elapsed, count(result), yardstick, used));
                progress(FormattableString.Invariant(
                    $"{name}: {count(result)} in {elapsed.TotalSeconds:F3} s (CPU: rapid {used.Client:F2} s of which system {used.ClientSystem:F2} s, server {used.Server:F2} s)"));
                return result;
            }

            var sw = Stopwatch.StartNew();
            var (window, ingest) = await CreateSurveyAsync(ds, store, keys, jobs, progress, ct);
            var setup = sw.Elapsed;
            steps.Add(new OpsBenchStep(Ingest, ingest, jobs));
            progress($"setup: {jobs} L2 images with registered references in {setup.TotalSeconds:F1} s");

            var options = new PlanningOptions { TileNaxis1 = 1024, TileNaxis2 = 1024 };
            var register = new RegisterCompletedJobs(ds, store, keys);
            var science = await Timed(PlanScience, () => new PlanScienceJobs(ds, store, keys, options).PlanAsync(window, ProcDate, ct), p => p.ArraySize,
                "target < 2 s at 2,069 jobs, < 15 s at 20,000; original 1183-1344 s at 2,069");
            var manifestBytes = await WriteManifestsAsync(store, keys, science, ct);
            await Timed(RegisterScience, () => Registered(register.RegisterJobListAsync(science.JobList!, ct: ct)), r => r.Registered,
                "target < 2 s at 2,069 jobs, < 15 s at 20,000; original 415-462 s at 2,069");
            await Timed(RegisterScienceAgain, () => register.RegisterJobListAsync(science.JobList!, ct: ct), r => r.Unchanged);

            var post = await Timed(PlanPostProcessing, () => new PlanPostProcessing(ds, store, keys, options).PlanAsync(ProcDate, ct), p => p.ArraySize);
            await WriteManifestsAsync(store, keys, post, ct);
            await Timed(RegisterPostProcessing, () => Registered(register.RegisterJobListAsync(post.JobList!, ct: ct)), r => r.Registered);

            var night = await Timed(PlanNightRecovery, () => new PlanNightRecovery(ds, store, keys, options).PlanAsync(ProcDate, ct), p => p.ArraySize);
            await WriteManifestsAsync(store, keys, night, ct);
            await Timed(RegisterNightRecovery, () => Registered(register.RegisterJobListAsync(night.JobList!, ct: ct)), r => r.Registered);

            if (extraIngest > 0)
            {
                var images = Enumerable.Range(0, extraIngest).Select(i =>
                {
                    var e = i / ScasPerExposure;
                    var tile = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf((e * 3.7) % 360, -70 + e * 140.0 / (extraIngest / ScasPerExposure + 1)));
                    return Image(keys, tile, Filters[e % Filters.Length], 1 + i % ScasPerExposure, new DateTime(2099, 6, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(e), 0);
                }).ToList();
                await Timed(ExtraIngest, () => new RegisterSurveyImages(ds).RegisterAsync(images, ct), r => r.Count(x => x.Inserted));
            }
            return new OpsBenchmarkReport(jobs, keepDatabase ? scratch.Name : $"{scratch.Name} (dropped)", setup, steps, manifestBytes, (loadBefore, LoadAverage()));
        }
        finally
        {
            if (!keepDatabase)
                foreach (var bucket in new[] { keys.Buckets.Pipeline, keys.Buckets.Products, keys.Buckets.Logs })
                    await foreach (var obj in store.ListAsync(bucket, $"{ProcDate}/", CancellationToken.None))
                        await store.DeleteAsync(obj, CancellationToken.None);
        }
    }

    /// <summary>A registration that must register everything: any failure stops the bench, naming the first.</summary>
    private static async Task<RegistrationReport> Registered(Task<RegistrationReport> registration)
    {
        var report = await registration;
        if (report.Failures.Count > 0 || report.Lost > 0)
            throw new InvalidOperationException($"bench: {report.Failures.Count} registrations failed and {report.Lost} jobs lost; first: {report.Failures.FirstOrDefault()?.Message}");
        // Every superseded original must go, as on a night whose stamped copies are in the store.
        if (report.SupersededKept.Count > 0)
            throw new InvalidOperationException($"bench: {report.SupersededKept.Count} superseded files kept; first: {report.SupersededKept[0].Message}");
        return report;
    }

    /// <summary>
    /// <paramref name="jobs"/> tonight's images (18 SCAs per exposure, one sky tile per exposure, two
    /// filters), 3 earlier images per (tile, filter), and a registered reference for each, made by the
    /// real steps (plan references, manifests, registration). Returns tonight's window.
    /// </summary>
    private static async Task<(ObservationWindow Window, TimeSpan Ingest)> CreateSurveyAsync(NpgsqlDataSource ds, IObjectStore store, ObjectKeys keys, int jobs,
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
        var clock = Stopwatch.StartNew();
        await ingest.RegisterAsync(tonight, ct);
        var ingestTime = clock.Elapsed;
        var window = new ObservationWindow(night.AddHours(-1), night.AddHours(12));
        var refPlan = await new PlanReferenceImages(ds, store, keys, new PlanningOptions { TileNaxis1 = 1024, TileNaxis2 = 1024 }).PlanAsync(window, ProcDate, ct);
        await WriteManifestsAsync(store, keys, refPlan, ct);
        var registered = await new RegisterCompletedJobs(ds, store, keys).RegisterJobListAsync(refPlan.JobList!, ct: ct);
        progress($"setup: {registered.ReferenceImages} reference images registered");
        return (window, ingestTime);
    }

    /// <summary>The 1-minute load average (/proc/loadavg), NaN where there is none.</summary>
    public static double LoadAverage()
    {
        try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return double.NaN; }
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

    /// <summary>
    /// Writes what each planned job leaves in the store on success: its manifest (<see cref="NightManifests"/>), its log,
    /// and, in a directory store, its products (a post-processing job's stamped copies) as sparse files of the sizes the
    /// manifest gives, so registration reads the logs and deletes the superseded originals as on a real night. Returns the
    /// size of one manifest.
    /// </summary>
    private static async Task<int> WriteManifestsAsync(IObjectStore store, ObjectKeys keys, PlanResult plan, CancellationToken ct)
    {
        if (plan.JobList is null) return 0;
        var list = await Contract.ReadAsync<JobList>(store, plan.JobList, ct);
        var size = 0;
        var started = DateTimeOffset.UtcNow;
        await Parallel.ForEachAsync(list.Jobs, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (job, token) =>
        {
            var bytes = await store.GetBytesAsync(job.Config, token);
            var config = Contract.Deserialize<JobConfig>(bytes, job.Config.ToString());
            var manifest = NightManifests.Success(config, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), keys, started);
            var json = Contract.Serialize(manifest);
            await store.PutBytesAsync(job.Manifest, json, token);
            await store.PutBytesAsync(keys.Log(ProcessingDate.Parse(config.ProcDate), config.Jid),
                System.Text.Encoding.UTF8.GetBytes(NightManifests.Log(manifest, job.Config)), token);
            if (store is DirectoryObjectStore directory)
            {
                var files = manifest.Products.Select(p => (p.File, p.Checksum.SizeBytes))
                    .Concat(manifest.Outcome is PostProcessingOutcome post ? post.Stamped.Select(s => (s.File, s.Checksum.SizeBytes)) : []);
                foreach (var (file, length) in files) StandIn(directory.PathOf(file), length);
            }
            Interlocked.Exchange(ref size, json.Length);
        });
        return size;
    }

    /// <summary>A file of <paramref name="bytes"/> bytes that occupies no disk (sparse): a product's stand-in.</summary>
    private static void StandIn(string path, long bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        file.SetLength(bytes);
    }
}
