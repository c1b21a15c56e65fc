using System.Diagnostics;
using System.Text;
using Rapid.Cli.Commands;
using Rapid.Core.Batch;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Api;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Jobs;

namespace Rapid.Cli.Diff;

/// <summary>What a finished <c>rapid diff</c> made: its manifest and where the products are.</summary>
public sealed record DiffOutcome(DiffManifest Manifest, string OutDirectory);

/// <summary>
/// Runs the science pipeline (ppid 15) on local files exactly as a Batch job runs it: the inputs are staged
/// (symbolic links) into a private directory object store, a job config and a one-entry job list are written
/// as the planner writes them, and the pipeline's <see cref="JobRunner"/> runs in process with the environment
/// Batch would give it. The products are then moved into the outdir in one rename: they are assembled in a
/// temporary directory beside it, so on any failure the outdir is left as it was (no partial products).
/// </summary>
public sealed class DiffRunner(Action<string>? logLine = null)
{
    private const long Jid = 1;
    private const long ScienceRid = 1;
    private const string ManifestFile = "manifest.json";
    private const string LogFile = "diff.log";

    public async Task<DiffOutcome> RunAsync(DiffRequest request, CancellationToken ct = default)
    {
        request.Validate();
        var clock = Stopwatch.StartNew();
        var cpuStart = Environment.CpuUsage.TotalTime;
        var started = DateTimeOffset.UtcNow;
        var outDir = Path.GetFullPath(request.OutDirectory);
        RequireUsableOutDirectory(outDir, request.Overwrite);

        var infos = request.AllInputs().Select(i => DiffInputCheck.Check(i.Path, i.Role)).ToList();
        var science = infos[0];

        var parent = Path.GetDirectoryName(outDir) ?? throw new ArgumentException($"diff: --out {outDir} has no parent directory");
        Directory.CreateDirectory(parent);
        // Beside the outdir (same file system), so the products reach it by a rename, not a copy.
        var scratch = Path.Combine(parent, $".{Path.GetFileName(outDir)}.rapid-diff-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(scratch);
        try
        {
            var store = new DirectoryObjectStore(Path.Combine(scratch, "store"));
            var buckets = Buckets.Default;
            var keys = new ObjectKeys(buckets);
            var procDate = ProcessingDate.At(started);
            var staged = new StagedInputs(store, buckets);
            var spec = BuildSpec(request, science, infos, staged);
            var config = new JobConfig { Jid = Jid, ProcDate = procDate.ToString(), Spec = spec, Settings = request.Settings, SettingsProfile = request.SettingsProfile };
            var configRef = keys.JobConfig(procDate, Jid);
            var manifestRef = keys.Manifest(procDate, Jid);
            await Contract.WriteAsync(store, configRef, config, ct);
            var listRef = keys.JobList(procDate, PipelineIds.Science, "diff");
            await Contract.WriteAsync(store, listRef, new JobList
            {
                Ppid = PipelineIds.Science, ProcDate = procDate.ToString(), Jobs = [new JobListEntry(Jid, configRef, manifestRef)],
            }, ct);

            var environment = new BatchEnvironment(listRef, 0, "rapid-diff", 1, buckets, store.Root)
                .AsEnvironment().ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
            var runner = new JobRunner(name => environment.GetValueOrDefault(name), TextWriter.Null, new LineWriter(logLine));
            var exitCode = await runner.RunAsync(ct);

            ProductManifest jobManifest;
            try
            {
                jobManifest = await Contract.ReadAsync<ProductManifest>(store, manifestRef, ct);
            }
            catch (ObjectNotFoundException)
            {
                throw new PipelineExitException(exitCode, $"the science job ended with exit {exitCode} without a manifest");
            }
            if (!ExitCodes.HasProducts(jobManifest.ExitCode))
                throw new PipelineExitException(jobManifest.ExitCode, staged.InUserTerms(jobManifest.Reason ?? ExitCodes.Describe(jobManifest.ExitCode)));

            var assembled = Directory.CreateDirectory(Path.Combine(scratch, "out")).FullName;
            var products = new List<DiffProduct>();
            foreach (var p in jobManifest.Products)
            {
                var name = p.File.FileName;
                File.Move(store.PathOf(p.File), Path.Combine(assembled, name));
                products.Add(new DiffProduct(p.Role, name, p.Checksum.SizeBytes, p.Checksum.Sha256, p.Checksum.Md5));
            }
            var logRef = keys.Log(procDate, Jid);
            var log = await store.ExistsAsync(logRef, ct) ? staged.InUserTerms(Encoding.UTF8.GetString(await store.GetBytesAsync(logRef, ct))) : "";
            await File.WriteAllTextAsync(Path.Combine(assembled, LogFile), log, ct);

            var outcome = (ScienceOutcome)jobManifest.Outcome!;
            var steps = jobManifest.StepTotals();
            var manifest = new DiffManifest
            {
                ExitCode = jobManifest.ExitCode,
                Reason = jobManifest.Reason is null ? null : staged.InUserTerms(jobManifest.Reason),
                Warnings = jobManifest.Warnings.Select(w => w with { Message = staged.InUserTerms(w.Message) }).ToList(),
                Inputs = new DiffManifestInputs
                {
                    Science = Path.GetFullPath(request.Science),
                    ReferenceInputs = request.ReferenceInputs.Select(Path.GetFullPath).ToList(),
                    ReferenceImage = FullOrNull(request.ReferenceImage),
                    ReferenceCoverage = FullOrNull(request.ReferenceCoverage),
                    ReferenceUncertainty = FullOrNull(request.ReferenceUncertainty),
                    SciencePsf = FullOrNull(request.SciencePsf),
                    ReferencePsf = FullOrNull(request.ReferencePsf),
                    ReferenceGrid = spec.Reference.IsRegistered ? null
                        : spec.Tile is { } t ? $"tile {t.Field} {t.Naxis1}x{t.Naxis2}" : "science",
                },
                Settings = config.Settings,
                Products = products,
                DifferenceImage = outcome.Difference,
                ReferenceImage = outcome.CoaddedReference,
                StepSeconds = steps.ToDictionary(s => s.Name, s => s.WallSeconds),
                StepCpuSeconds = steps.ToDictionary(s => s.Name, s => s.CpuSeconds),
                Started = started,
                Ended = DateTimeOffset.UtcNow,
                WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3),
                CpuSeconds = Math.Round((Environment.CpuUsage.TotalTime - cpuStart).TotalSeconds, 3),
                PeakMemoryBytes = ProcessMemory.PeakResidentBytes(),
                SoftwareVersion = jobManifest.Software.Version,
            };
            await File.WriteAllBytesAsync(Path.Combine(assembled, ManifestFile), DiffJsonContext.Serialize(manifest), ct);
            Publish(assembled, outDir, scratch);
            return new DiffOutcome(manifest, outDir);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (IOException) { }
        }
    }

    private static ScienceSpec BuildSpec(DiffRequest request, DiffInputInfo science, IReadOnlyList<DiffInputInfo> infos, StagedInputs staged)
    {
        var field = science.CentreField();
        L2Image Image(DiffInputInfo info, long rid, string key, string? psf = null) =>
            info.AsL2Image(rid, field, staged.Stage(info.Path, key), psf is null ? null : staged.Stage(psf, $"psf/science_{Path.GetFileName(psf)}"));

        ReferenceSource reference;
        var referencePsf = request.ReferencePsf is null ? null : staged.Stage(request.ReferencePsf, $"psf/reference_{Path.GetFileName(request.ReferencePsf)}");
        if (request.CoaddsReference)
        {
            var inputs = infos.Skip(1).Take(request.ReferenceInputs.Count).Select((info, i) =>
                Image(info, ScienceRid + 1 + i, $"reference/{i + 1:000}_{Path.GetFileName(info.Path)}")).ToList();
            reference = new ReferenceSource { Inputs = inputs, Psf = referencePsf };
        }
        else
        {
            reference = new ReferenceSource
            {
                // rfid 0: a reference given as a file, not one registered in an ops database.
                Rfid = 0, Version = 1,
                Image = staged.Stage(request.ReferenceImage!, $"reference/{Path.GetFileName(request.ReferenceImage)}"),
                Coverage = request.ReferenceCoverage is null ? null : staged.Stage(request.ReferenceCoverage, $"reference/coverage_{Path.GetFileName(request.ReferenceCoverage)}"),
                Uncertainty = request.ReferenceUncertainty is null ? null : staged.Stage(request.ReferenceUncertainty, $"reference/uncertainty_{Path.GetFileName(request.ReferenceUncertainty)}"),
                Psf = referencePsf,
            };
        }

        TileGrid? tile = null;
        if (request.TileGridPixels is int n)
        {
            var t = SkyTessellation.Roman.Tile(field);
            tile = new TileGrid
            {
                Field = field, CenterRaDeg = t.CenterRaDeg, CenterDecDeg = t.CenterDecDeg,
                Naxis1 = n, Naxis2 = n, PixelScaleArcsec = new PlanningOptions().PixelScaleArcsec,
            };
        }
        return new ScienceSpec
        {
            Science = Image(science, ScienceRid, $"science/{Path.GetFileName(science.Path)}", request.SciencePsf),
            Tile = tile,
            Reference = reference,
            FakeSources = request.FakeSources > 0 ? new FakeSourcesConfig { Count = request.FakeSources } : null,
        };
    }

    private static string? FullOrNull(string? path) => path is null ? null : Path.GetFullPath(path);

    private static void RequireUsableOutDirectory(string outDir, bool overwrite)
    {
        if (File.Exists(outDir)) throw new ArgumentException($"diff: --out {outDir} is a file, not a directory");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !overwrite)
            throw new ArgumentException($"diff: --out {outDir} already holds files (give --overwrite to replace them)");
    }

    // The assembled products take the outdir's place in one rename; an outdir that was there (empty, or with
    // --overwrite) is first renamed aside, and deleted only once the new one is in place.
    private static void Publish(string assembled, string outDir, string scratch)
    {
        if (Directory.Exists(outDir))
        {
            var old = Path.Combine(scratch, "previous");
            Directory.Move(outDir, old);
            try
            {
                Directory.Move(assembled, outDir);
            }
            catch
            {
                Directory.Move(old, outDir);
                throw;
            }
            return;
        }
        Directory.Move(assembled, outDir);
    }

    /// <summary>The inputs linked into the private object store, and the way back from their URIs to the user's paths.</summary>
    private sealed class StagedInputs(DirectoryObjectStore store, Buckets buckets)
    {
        private readonly Dictionary<string, string> _userPaths = new(StringComparer.Ordinal);

        public ObjectRef Stage(string userPath, string key)
        {
            var full = Path.GetFullPath(userPath);
            var target = new ObjectRef(buckets.Data, $"diff/{key}");
            var path = store.PathOf(target);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // A link, not a copy: a 4088 x 4088 input is 64 MB and the job copies it into its work directory anyway.
            try { File.CreateSymbolicLink(path, full); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { File.Copy(full, path); } // no links on this file system
            _userPaths[target.ToString()] = userPath;
            return target;
        }

        /// <summary>The text with every staged object URI replaced by the path the user gave.</summary>
        public string InUserTerms(string text)
        {
            foreach (var (uri, user) in _userPaths.OrderByDescending(kv => kv.Key.Length)) text = text.Replace(uri, user, StringComparison.Ordinal);
            return text;
        }
    }

    /// <summary>Hands each line the job log writes to a callback (progress display, --verbose).</summary>
    private sealed class LineWriter(Action<string>? line) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void WriteLine(string? value) { if (value is not null) line?.Invoke(value); }
        public override void Write(char value) { }
    }
}
