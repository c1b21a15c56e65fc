using System.Diagnostics;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Subtraction;
using Rapid.Pipeline.Tests.Support;
using Xunit.Abstractions;

namespace Rapid.Pipeline.Tests.Subtraction;

/// <summary>
/// Timings at the Roman SCA size (4088^2), not tests: they do nothing unless RAPID_TIMING is set
/// (RAPID_TIMING=1 dotnet test Rapid.Pipeline.Tests -c Release --filter Category=Timing --logger "console;verbosity=detailed").
/// </summary>
[Trait("Category", "Timing")]
public class FullSizeTiming(ITestOutputHelper output)
{
    private static bool Enabled => Environment.GetEnvironmentVariable("RAPID_TIMING") is not null;
    private static int Repeats => int.TryParse(Environment.GetEnvironmentVariable("RAPID_TIMING_REPEATS"), out var r) ? r : 3;

    [Fact]
    public void Difference_imaging_steps()
    {
        if (!Enabled) return;
        var sw = Stopwatch.StartNew();
        var pair = new DifferencePair(new DifferencePairSpec { Size = 4088, Stars = 2500, Transients = 200 });
        output.WriteLine($"simulate {sw.Elapsed.TotalSeconds:F2}s");
        for (var k = 0; k < Repeats; k++)
        {
            var log = new SilentLog();
            sw.Restart();
            var result = DifferenceImaging.Run(pair.Input, new DifferenceImagingOptions(), log);
            output.WriteLine($"run {k}: total {sw.Elapsed.TotalSeconds:F2}s, {result.Sources.Count} sources, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB");
            foreach (var kv in log.StepSeconds) output.WriteLine($"  {kv.Key} {kv.Value:F2}s");
        }
    }

    [Fact]
    public async Task Science_job_against_a_registered_reference_with_fake_sources()
    {
        if (!Enabled) return;
        var n = 4088;
        var pair = new DifferencePair(new DifferencePairSpec { Size = n, Stars = 2500, Transients = 200 });
        using var bed = new JobTestBed();
        var sciHeader = new FitsHeader();
        pair.ScienceWcs.WriteTo(sciHeader);
        sciHeader.Set("EXPTIME", pair.Spec.ExposureTime);
        sciHeader.Set("GAIN", pair.Spec.Gain);
        sciHeader.Set("RDNOISE", pair.Spec.ReadNoiseDn);
        sciHeader.Set("SATURATE", pair.Spec.SaturationDn);
        sciHeader.Set("ZPTMAG", 26.0);
        var sciPath = Path.Combine(bed.Scratch, "sci.fits");
        FitsFile.WriteImage(sciPath, new FitsImage(n, n, pair.ScienceDn, sciHeader));
        var refHeader = new FitsHeader();
        pair.ReferenceWcs.WriteTo(refHeader);
        refHeader.Set("NFRAMES", 9L);
        string Write(string name, float[] pixels)
        {
            var path = Path.Combine(bed.Scratch, name);
            FitsFile.WriteImage(path, new FitsImage(n, n, pixels, refHeader.Clone()));
            return path;
        }
        var refImage = await bed.UploadL2Async(Write("ref.fits", pair.ReferenceRate));
        var coverage = new float[n * n];
        Array.Fill(coverage, 9f);
        var refCov = await bed.UploadL2Async(Write("ref_cov.fits", coverage));
        var refUnc = await bed.UploadL2Async(Write("ref_unc.fits", pair.ReferenceRateVariance.Select(MathF.Sqrt).ToArray()));
        var science = await bed.UploadL2Async(sciPath);
        for (var k = 0; k < Repeats; k++)
        {
            var config = new Rapid.Core.Contracts.JobConfig
            {
                Jid = 77 + k, ProcDate = bed.ProcDate.ToString(),
                Spec = new Rapid.Core.Contracts.ScienceSpec
                {
                    Science = new Rapid.Core.Contracts.L2Image { Rid = 1, File = science },
                    Reference = new Rapid.Core.Contracts.ReferenceSource { Rfid = 5, Version = 1, Image = refImage, Coverage = refCov, Uncertainty = refUnc },
                    FakeSources = new Rapid.Core.Contracts.FakeSourcesConfig { Count = 50 },
                },
            };
            var sw = Stopwatch.StartNew();
            // RAPID_TIMING_PROCESS: run the built entry point (Rapid.Pipeline.dll) as a child process, cold, as Batch does.
            var run = Environment.GetEnvironmentVariable("RAPID_TIMING_PROCESS") is null ? await bed.RunAsync(config) : await RunEntryPointAsync(bed, config);
            output.WriteLine($"job {k} exit {run.ExitCode} in {sw.Elapsed.TotalSeconds:F2}s, {(run.Manifest?.Outcome as Rapid.Core.Contracts.ScienceOutcome)?.Difference.NSources} sources, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB");
            foreach (var t in run.Manifest!.StepTotals()) output.WriteLine($"  {t.Name} {t.WallSeconds:F2}s (cpu {t.CpuSeconds:F2}s)");
            foreach (var line in run.Errors.Split('\n').Where(l => l.StartsWith("child cpu"))) output.WriteLine(line);
        }
    }
    /// <summary>Saves D, S_corr and the sources of a 1024^2 pair to RAPID_TIMING_BASELINE (a file) or, when it exists, compares with it.</summary>
    [Fact]
    public void Products_against_a_saved_baseline()
    {
        var file = Environment.GetEnvironmentVariable("RAPID_TIMING_BASELINE");
        if (!Enabled || file is null) return;
        var pair = new DifferencePair(new DifferencePairSpec { Size = 1024, Stars = 300, Transients = 60, HotPixels = 20, CosmicRays = 10 });
        var result = DifferenceImaging.Run(pair.Input, new DifferenceImagingOptions(), new SilentLog());
        float[][] arrays = [result.Difference, result.DifferenceUncertainty, result.ScoreCorrected,
            result.Sources.SelectMany(s => new[] { (float)s.X, (float)s.Y, (float)s.Flux, (float)s.FluxError, (float)s.Snr }).ToArray()];
        if (!File.Exists(file))
        {
            using var w = new BinaryWriter(File.Create(file));
            foreach (var a in arrays) { w.Write(a.Length); foreach (var v in a) w.Write(v); }
            output.WriteLine($"baseline written: {result.Sources.Count} sources");
            return;
        }
        using var r = new BinaryReader(File.OpenRead(file));
        foreach (var (a, name) in arrays.Zip(new[] { "D", "sigma_D", "S_corr", "sources" }))
        {
            var n = r.ReadInt32();
            var b = new float[n];
            for (var i = 0; i < n; i++) b[i] = r.ReadSingle();
            if (n != a.Length) { output.WriteLine($"{name}: length {a.Length} vs baseline {n}"); continue; }
            double maxAbs = 0, maxRel = 0, sum2 = 0; var nanMismatch = 0; var over = 0;
            for (var i = 0; i < n; i++)
            {
                if (float.IsNaN(a[i]) != float.IsNaN(b[i])) { nanMismatch++; continue; }
                if (float.IsNaN(a[i])) continue;
                var d = Math.Abs((double)a[i] - b[i]);
                maxAbs = Math.Max(maxAbs, d);
                sum2 += d * d;
                if (d > 1e-3 * Math.Max(1, Math.Abs((double)b[i]))) over++;
                maxRel = Math.Max(maxRel, d / Math.Max(1e-3, Math.Abs((double)b[i])));
            }
            output.WriteLine($"{name}: max |diff| {maxAbs:G3}, rms {Math.Sqrt(sum2 / n):G3}, max rel {maxRel:G3}, {over} beyond 1e-3, NaN mismatches {nanMismatch}");
        }
    }
    /// <summary>ZogySubtraction alone on a 4088^2 pair, wall and process CPU seconds per call (median and best of RAPID_TIMING_REPEATS + 2).</summary>
    [Fact]
    public void Zogy_alone()
    {
        if (!Enabled) return;
        var pair = new DifferencePair(new DifferencePairSpec { Size = 4088, Stars = 2500, Transients = 200 });
        var input = pair.Input;
        var psf = new Rapid.Pipeline.Psf.PsfEstimator();
        var sci = input.Science.Select(v => v - 1f).ToArray();
        var reference = input.Reference.Select(v => v - 0.6f).ToArray();
        var sciPsf = psf.Estimate(sci, input.Width, input.Height, 1, double.PositiveInfinity);
        var refPsf = psf.Estimate(reference, input.Width, input.Height, 1, double.PositiveInfinity);
        var (walls, cpus) = (new List<double>(), new List<double>());
        for (var k = 0; k < Repeats + 2; k++)
        {
            var process = Process.GetCurrentProcess();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            ZogySubtraction.Subtract(new ZogyImage(sci, input.Width, input.Height, sciPsf, 1) { Variance = input.ScienceVariance },
                new ZogyImage(reference, input.Width, input.Height, refPsf, 0.5) { Variance = input.ReferenceVariance }, 0.05, 0.05);
            walls.Add(sw.Elapsed.TotalSeconds);
            process.Refresh();
            cpus.Add((process.TotalProcessorTime - cpu0).TotalSeconds);
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        output.WriteLine($"zogy alone: wall median {Median(walls):F3}s best {walls.Min():F3}s; cpu median {Median(cpus):F3}s; all {string.Join(" ", walls.Select(v => v.ToString("F2")))}");
    }
    [Fact]
    public void Transforms()
    {
        if (!Enabled) return;
        const int n = 4116;
        using var fft = new Rapid.Pipeline.Fft.Fft2D(n, n);
        var img = new float[n * n];
        var spec = new float[fft.SpectrumLength];
        using var bImg = new Rapid.Pipeline.Fft.FftwBuffer(fft.RealLength);
        using var bSpec = new Rapid.Pipeline.Fft.FftwBuffer(fft.SpectrumLength);
        bImg.Span.Fill(1);
        img[5] = 1;
        for (var round = 0; round < 2; round++)
        {
            foreach (var (name, act) in new (string, Action)[] { ("arrays", () => fft.Forward(img, spec)), ("buffers", () => fft.Forward(bImg, bSpec)), ("inverse buffers", () => fft.InverseUnnormalised(bSpec, bImg)), ("compact reach 12", () => fft.ForwardCompact(bImg, 12, bSpec)), ("compact reach 50", () => fft.ForwardCompact(bImg, 50, bSpec)) })
            {
                var process = Process.GetCurrentProcess();
                var cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                for (var k = 0; k < 4; k++) act();
                process.Refresh();
                output.WriteLine($"{name}: wall {sw.Elapsed.TotalSeconds / 4:F3}s cpu {(process.TotalProcessorTime - cpu0).TotalSeconds / 4:F3}s per transform");
            }
        }
    }
    private static async Task<JobTestBed.Run> RunEntryPointAsync(JobTestBed bed, Rapid.Core.Contracts.JobConfig config)
    {
        var configRef = bed.Keys.JobConfig(bed.ProcDate, config.Jid);
        await Rapid.Core.Contracts.Contract.WriteAsync(bed.Store, configRef, config);
        var manifestRef = bed.Keys.Manifest(bed.ProcDate, config.Jid);
        var listRef = bed.Keys.JobList(bed.ProcDate, config.Ppid, $"test{config.Jid}");
        await Rapid.Core.Contracts.Contract.WriteAsync(bed.Store, listRef, new Rapid.Core.Contracts.JobList
        {
            Ppid = config.Ppid, ProcDate = bed.ProcDate.ToString(),
            Jobs = [new Rapid.Core.Contracts.JobListEntry(config.Jid, configRef, manifestRef)],
        });
        var start = new ProcessStartInfo("/usr/bin/time", ["-f", "child cpu user %U s sys %S s wall %e s max rss %M kB", "dotnet", Path.Combine(AppContext.BaseDirectory, "Rapid.Pipeline.dll")]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment[Rapid.Core.Batch.BatchEnvironment.JobListVariable] = listRef.ToString();
        start.Environment[Rapid.Core.Batch.BatchEnvironment.ArrayIndexVariable] = "0";
        start.Environment[Rapid.Core.Batch.BatchEnvironment.JobIdVariable] = $"test-{config.Jid}";
        start.Environment[Rapid.Core.Batch.BatchEnvironment.StoreRootVariable] = bed.Store.Root;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var manifest = await bed.Store.ExistsAsync(manifestRef) ? await Rapid.Core.Contracts.Contract.ReadAsync<Rapid.Core.Contracts.ProductManifest>(bed.Store, manifestRef) : null;
        return new JobTestBed.Run(process.ExitCode, manifest, await stderr + await stdout, manifestRef);
    }
}
