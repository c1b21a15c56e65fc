using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Cli.Bench;

/// <summary>
/// The manifests the pipeline's jobs write when they succeed, built from their job configs without running them: for
/// <c>rapid bench ops</c>, which times registration on what a night really registers. Every product role a job of the
/// pipeline writes (a science job: the difference image, its uncertainty, S_corr, P_D, the resampled reference, the
/// catalog and the injection-recovery table; and the reference's four files when it co-added its own), every outcome
/// section with every figure, the timeline of the pipeline's steps, resources, host, software and settings. Only the
/// checksums are of stand-in bytes. <c>NightManifestsTests</c> compares them with the manifests of a real night.
/// </summary>
public static class NightManifests
{
    /// <summary>The steps a job's timeline records, per pipeline, as the pipeline names them (<c>JobLog.Step</c>).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Steps = new Dictionary<string, string[]>
    {
        [PipelineNames.ReferenceImage] = ["reference.download", "reference.calibrate", "reference.resample", "reference.coadd", "reference.catalog", "reference.write", "upload"],
        [PipelineNames.Science] = ["science.calibrate", "reference.download", "reference.resample_to_science", "psf.science", "background", "masks", "psf",
            "flux_match", "background_offset", "cosmic_rays", "model_error", "zogy", "detection", "fake_sources", "fake_sources.recover", "write", "upload"],
        [PipelineNames.PostProcessing] = ["stamp", "upload"],
        [PipelineNames.NightRecovery] = ["night_recovery.read", "night_recovery.score", "night_recovery.write", "upload"],
    };

    /// <summary>
    /// The manifest a job of <paramref name="config"/> writes when it succeeds, started at <paramref name="started"/> (after
    /// its plan: registration refuses a manifest of a run that started before the job was planned) and 8 s per step.
    /// </summary>
    public static ProductManifest Success(JobConfig config, string configSha256, ObjectKeys keys, DateTimeOffset started)
    {
        var procDate = ProcessingDate.Parse(config.ProcDate);
        var jid = config.Jid;
        ProductFile File(string role, string name, long size) => new(role, keys.Product(procDate, jid, name), Checksum($"{jid}/{name}", size));
        var reference = new List<ProductFile>
        {
            File(ProductRoles.ReferenceImage, "refimage.fits", 196_012_800), File(ProductRoles.ReferenceCoverage, "refimage_cov.fits", 196_012_800),
            File(ProductRoles.ReferenceUncertainty, "refimage_uncert.fits", 196_012_800), File(ProductRoles.ReferenceCatalog, "refimage_catalog.fits", 1_872_000),
        };
        (IReadOnlyList<ProductFile> Products, JobOutcome Outcome, string Pipeline) made = config.Spec switch
        {
            ReferenceImageSpec r => (reference, new ReferenceImageOutcome { Reference = Reference(r.Tile.Field, r.Inputs) }, PipelineNames.ReferenceImage),
            ScienceSpec s => Science(s, File, reference),
            PostProcessingSpec p => ([], new PostProcessingOutcome
            {
                SourceJid = p.SourceJid,
                Stamped = p.Products.Select(x => new StampedProduct { Role = x.Role, Source = x.Source, File = x.Target, Checksum = Checksum(x.Target.ToString(), 66_853_440) }).ToList(),
            }, PipelineNames.PostProcessing),
            NightRecoverySpec n => ([File(ProductRoles.NightRecovery, $"rapid_injrecov_{procDate}.fits", 48L * n.Tables.Count * 50 + 2880)], NightRecovery(n), PipelineNames.NightRecovery),
            _ => throw new ArgumentException($"no manifest for a {config.Spec.GetType().Name}"),
        };
        var steps = Steps[made.Pipeline];
        var ended = started.AddSeconds(8 * steps.Length);
        return new ProductManifest
        {
            Jid = jid, Ppid = config.Ppid, ProcDate = config.ProcDate, ExitCode = ExitCodes.Success,
            Started = started, Ended = ended,
            Batch = new BatchRun { JobId = $"bench-{config.Ppid}:{jid}", ArrayIndex = (int)(jid % 10_000), Attempt = 1, JobQueue = "rapid-bench" },
            Host = new HostInfo { Name = "bench-host", ProcessorCount = 4 },
            Software = new SoftwareInfo { Version = "1.0.0+0123456789abcdef0123456789abcdef01234567", GitCommit = "0123456789abcdef0123456789abcdef01234567" },
            ConfigSha256 = configSha256,
            Settings = config.Settings,
            Resources = new JobResources { WallSeconds = 8.0 * steps.Length, CpuSeconds = 10.5 * steps.Length, PeakMemoryBytes = 2_600_000_000 },
            Timeline = steps.Select((name, i) => new StepRecord(name, started.AddSeconds(8 * i), started.AddSeconds(8 * i + 8), 8, 10.5)).ToList(),
            Products = made.Products,
            Outcome = made.Outcome,
        };
    }

    private static (IReadOnlyList<ProductFile>, JobOutcome, string) Science(ScienceSpec s, Func<string, string, long, ProductFile> file,
        IReadOnlyList<ProductFile> reference)
    {
        const long image = 66_853_440; // 4088² float32 with headers
        var products = new List<ProductFile>
        {
            file(ProductRoles.DifferenceImage, "diffimage.fits", image), file(ProductRoles.DifferenceUncertainty, "diffimage_uncert.fits", image),
            file(ProductRoles.ScoreImage, "scorr.fits", image), file(ProductRoles.ResampledReference, "refimage_resampled.fits", image),
            file(ProductRoles.DifferenceCatalog, "sources.fits", 311_040), file(ProductRoles.DifferencePsf, "diffpsf.fits", 14_400),
        };
        var coadded = !s.Reference.IsRegistered;
        if (coadded) products.AddRange(reference);
        InjectionRecoveryResult? recovery = null;
        if (s.FakeSources is { Enabled: true } fakes)
        {
            products.Add(file(ProductRoles.InjectionRecovery, "injrecov.fits", 48L * fakes.Count + 5760));
            recovery = new InjectionRecoveryResult
            {
                Seed = fakes.Seed, BrightMag = 23.1, FaintMag = 26.6, MagLimit = 25.6, PsfFwhmPixels = 1.45, PsfSource = "science",
                MatchRadiusPixels = fakes.MatchRadiusPixels,
                Fakes = new RecoveryFigures { Injected = fakes.Count, Found = fakes.Count * 4 / 5, Mag50 = 25.7, Mag90 = 25.1, FluxBias = -0.012 },
                PositiveDetections = 131, UnmatchedPositive = 3, AreaDeg2 = 0.0154, FakesOnMaskedPixels = 1,
            };
        }
        var d = s.Science;
        var outcome = new ScienceOutcome
        {
            Difference = new DifferenceImageResult
            {
                Rid = d.Rid, Rfid = s.Reference.Rfid, NSources = 214, NPositive = 131, NNegative = 83, ScaleFactor = 1.013,
                DxRms = 0.031, DyRms = 0.029, DxMedian = 0.002, DyMedian = -0.001, BackgroundScience = 0.82, BackgroundReference = 0.79,
                FwhmScience = 1.46, FwhmReference = 1.52, CoverageMedian = 8, MaskedFraction = 0.004,
                CornersRaDec = [10.0, -30.0, 9.94, -30.06, 10.06, -30.06, 10.06, -29.94, 9.94, -29.94],
            },
            CoaddedReference = coadded ? Reference(s.Tile?.Field ?? d.Field, s.Reference.Inputs) : null,
            InjectionRecovery = recovery,
        };
        return (products, outcome, PipelineNames.Science);
    }

    private static ReferenceImageResult Reference(long field, IReadOnlyList<L2Image> inputs) => new()
    {
        Field = field, Fid = inputs.Count > 0 ? inputs[0].Fid : 1, InputRids = inputs.Select(i => i.Rid).ToList(), NFrames = inputs.Count,
        MjdObsMin = inputs.Count > 0 ? inputs.Min(i => i.MjdObs) : 0, MjdObsMax = inputs.Count > 0 ? inputs.Max(i => i.MjdObs) : 0,
        NPixNan = 41_230, NPixSat = 1_802, Cov5Percent = Math.Max(1, inputs.Count - 2), MedianCoverage = inputs.Count, MedianPixelUncertainty = 0.012,
        ClippedMean = 0.81, ClippedSigma = 0.036, FwhmMedian = 1.51, NSources = 2_310,
    };

    private static NightRecoveryOutcome NightRecovery(NightRecoverySpec n) => new()
    {
        Tables = n.Tables.Count,
        Filters = n.Tables.GroupBy(t => (t.Fid, t.Filter)).Select(g => new NightRecoveryFigures
        {
            Fid = g.Key.Fid, Filter = g.Key.Filter, Kind = Rapid.Pipeline.Jobs.RecoveryMeasurementStep.FakeKind, Images = g.Count(),
            Figures = new RecoveryFigures { Injected = 50 * g.Count(), Found = 40 * g.Count(), Mag50 = 25.7, Mag90 = 25.1, FluxBias = -0.012 },
            UnmatchedPositive = g.Sum(t => t.UnmatchedPositive), AreaDeg2 = g.Sum(t => t.AreaDeg2), FalsePositivesPerDeg2 = 190,
            Bins = Enumerable.Range(0, 14).Select(b => new CompletenessBinResult(23 + 0.25 * b, 23.25 + 0.25 * b, 4 * g.Count(), 3 * g.Count(), 0.75, -0.01)).ToList(),
        }).ToList(),
    };

    /// <summary>
    /// The log a job of <paramref name="m"/> uploads beside its manifest, as <c>JobLog</c> writes it: its first line, the
    /// config line, each step's start and end, each product's upload; a science job's own messages (ePSF, flux scale, ZOGY,
    /// detection, fake sources), which make a real science log ~6 KB, are stood in for by one line per step.
    /// </summary>
    public static string Log(ProductManifest m, ObjectRef config)
    {
        var text = new System.Text.StringBuilder();
        void Line(DateTimeOffset at, string message) =>
            text.Append(at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture)).Append(' ').AppendLine(message);
        Line(m.Started, $"rapid-pipeline {m.Software.Version}: jid {m.Jid}, ppid {m.Ppid}, array index {m.Batch.ArrayIndex}, batch job {m.Batch.JobId}, attempt {m.Batch.Attempt}");
        Line(m.Started, $"config {config} (sha256 {m.ConfigSha256})");
        foreach (var step in m.Timeline)
        {
            Line(step.Started, $"step {step.Name}: start");
            Line(step.Ended.AddSeconds(-1), $"{step.Name}: what the step measured, one line standing in for the step's own messages");
            if (step.Name == "upload")
                foreach (var p in m.Products) Line(step.Ended, $"uploaded {p.Role} {p.File} ({p.Checksum.SizeBytes} bytes, md5 {p.Checksum.Md5})");
            Line(step.Ended, FormattableString.Invariant($"step {step.Name}: done in {step.WallSeconds:0.000} s (cpu {step.CpuSeconds:0.000} s)"));
        }
        return text.ToString();
    }

    /// <summary>A checksum of stand-in bytes, with the size the real product has.</summary>
    private static FileChecksum Checksum(string seed, long size)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(seed);
        return new FileChecksum(size, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)),
            Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(bytes)));
    }
}
