using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Jobs;
using Rapid.Pipeline.Simulation.Injection;
using Rapid.Pipeline.Tests.Support;

namespace Rapid.Pipeline.Tests.Jobs;

/// <summary>Pipeline 18 through the entry point: two science jobs' tables merged into the night's, scored per filter.</summary>
public sealed class NightRecoveryJobTests : IDisposable
{
    private readonly JobTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    /// <summary>A job's table: fakes from mag 20 to 26 in 0.1 mag steps, found when brighter than <paramref name="limit"/>, measured 2 % low.</summary>
    private async Task<RecoveryTableRef> TableAsync(long jid, int fid, string filter, double limit)
    {
        var rows = Enumerable.Range(0, 60).Select(i =>
        {
            var mag = 20 + 0.1 * i + 0.05;
            var flux = Math.Pow(10, -0.4 * (mag - 26));
            var source = new InjectedSource(i + 1, 50 + i, 60, 150, 2, mag, flux);
            return mag < limit
                ? new RecoveryRow(source, flux, true, 0.98 * flux, 0.05 * flux, 20, 0.1)
                : new RecoveryRow(source, flux, false, double.NaN, double.NaN, double.NaN, double.NaN);
        }).ToList();
        var path = Path.Combine(_bed.Scratch, $"injrecov_{jid}.fits");
        FitsFile.WriteTable(path, new FitsHeader(), RecoveryMeasurementStep.ToTable(rows, []));
        var file = _bed.Keys.Product(_bed.ProcDate, jid, "injrecov.fits");
        await _bed.Store.PutFileAsync(file, path);
        return new RecoveryTableRef { Jid = jid, Rid = jid + 100, Fid = fid, Filter = filter, File = file, AreaDeg2 = 0.005, UnmatchedPositive = 3 };
    }

    [Fact]
    public async Task Merges_the_tables_and_measures_completeness_per_filter()
    {
        var tables = new[] { await TableAsync(11, 2, "H158", 24.0), await TableAsync(12, 2, "H158", 24.0), await TableAsync(13, 1, "F184", 23.0) };
        var config = new JobConfig
        {
            Jid = 900, ProcDate = _bed.ProcDate.ToString(),
            Spec = new NightRecoverySpec { Tables = tables, BinWidthMag = 0.5 },
        };

        var run = await _bed.RunAsync(config);

        Assert.Equal(0, run.ExitCode);
        var night = Assert.IsType<NightRecoveryOutcome>(run.Manifest!.Outcome);
        Assert.Equal(3, night.Tables);
        var h158 = Assert.Single(night.Filters, f => f.Filter == "H158");
        var f184 = Assert.Single(night.Filters, f => f.Filter == "F184");
        Assert.Equal((2, 120, 80, 6), (h158.Images, h158.Figures.Injected, h158.Figures.Found, h158.UnmatchedPositive));
        Assert.Equal(6 / 0.01, h158.FalsePositivesPerDeg2, 6);
        // Completeness drops from 1 to 0 between the bins centred on 23.75 and 24.25: both crossings at 24.0 ± 0.2.
        Assert.InRange(h158.Figures.Mag50!.Value, 23.75, 24.25);
        Assert.InRange(h158.Figures.Mag90!.Value, 23.75, h158.Figures.Mag50.Value);
        Assert.InRange(f184.Figures.Mag50!.Value, 22.75, 23.25);
        Assert.Equal(-0.02, h158.Figures.FluxBias, 9);
        Assert.Equal(h158.Figures.Injected, h158.Bins.Sum(b => b.Injected));
        Assert.Equal(h158.Figures.Found, h158.Bins.Sum(b => b.Found));

        var product = Assert.Single(run.Manifest.Products);
        Assert.Equal(ProductRoles.NightRecovery, product.Role);
        var merged = FitsFile.ReadTable(_bed.PathOf(product.File), NightRecoveryJob.TableExtension);
        Assert.Equal(180, merged.RowCount);
        Assert.Equal([11, 12, 13], merged.GetLongs("JID").Distinct().Order());
        Assert.Equal(80 + 30, merged.GetLongs("FOUND").Sum());
        FitsVerify.AssertValid(_bed.PathOf(product.File));
    }

    [Fact]
    public async Task A_missing_table_fails_the_job_naming_it()
    {
        var table = await TableAsync(11, 2, "H158", 24.0);
        var missing = table with { File = table.File.Sibling("gone.fits") };
        var run = await _bed.RunAsync(new JobConfig
        {
            Jid = 901, ProcDate = _bed.ProcDate.ToString(),
            Spec = new NightRecoverySpec { Tables = [table, missing] },
        });
        Assert.Equal(Core.Jobs.ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("gone.fits", run.Manifest!.Reason);
    }
}
