using Dapper;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

/// <summary>
/// Every field of a manifest is validated against its job's config and key layout before anything is registered. A bad
/// manifest at its job's key closes the job as failed (exit 71) with a reason naming the field and registers nothing; a
/// manifest anywhere else is not its job's and touches nothing.
/// </summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class ManifestValidationTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    private JobConfig _science = null!;
    private ProductManifest _good = null!;

    public async Task InitializeAsync()
    {
        _w = await OpsWorld.CreateAsync(db);
        var t = SkyTessellation.Roman.Tile(SkyTessellation.Roman.FieldOf(80, 45));
        await _w.EarlierImagesAsync(t.CenterRaDeg, t.CenterDecDeg, 3);
        await _w.TonightImageAsync(t.CenterRaDeg, t.CenterDecDeg);
        var refPlan = await _w.PlanReferences.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate);
        await _w.WriteSuccessManifestAsync(Assert.Single(await _w.ConfigsAsync(refPlan)));
        await _w.Register.RegisterJobListAsync(refPlan.JobList!);
        _science = Assert.Single(await _w.ConfigsAsync(await _w.PlanScience.PlanAsync(OpsWorld.Window, OpsWorld.ProcDate)));
        _good = await _w.WriteSuccessManifestAsync(_science);
    }

    public async Task DisposeAsync() => await _w.DisposeAsync();

    private ObjectRef Key => _w.Keys.Manifest(OpsWorld.ProcDate, _science.Jid);

    private ScienceOutcome Science => (ScienceOutcome)_good.Outcome!;

    private ProductManifest WithProduct(int index, Func<ProductFile, ProductFile> change) =>
        _good with { Products = _good.Products.Select((p, i) => i == index ? change(p) : p).ToList() };

    private ProductManifest WithDifference(Func<DifferenceImageResult, DifferenceImageResult> change) =>
        _good with { Outcome = Science with { Difference = change(Science.Difference) } };

    private ObjectRef Product(string key) => new(_w.Keys.Buckets.Products, key);

    /// <summary>Each way a manifest can be wrong, and the field the rejection must name.</summary>
    private ProductManifest Bad(string name) => name switch
    {
        "dotdot" => WithProduct(0, p => p with { File = Product($"20280907/jid{_science.Jid}/../jid1/diffimage.fits") }),
        "double slash" => WithProduct(0, p => p with { File = Product($"20280907/jid{_science.Jid}//diffimage.fits") }),
        "other bucket" => WithProduct(0, p => p with { File = new ObjectRef(_w.Keys.Buckets.Data, $"20280907/jid{_science.Jid}/diffimage.fits") }),
        "other job's prefix" => WithProduct(0, p => p with { File = Product($"20280907/jid{_science.Jid + 1}/diffimage.fits") }),
        "negative size" => WithProduct(0, p => p with { Checksum = p.Checksum with { SizeBytes = -1 } }),
        "bad digest" => WithProduct(0, p => p with { Checksum = p.Checksum with { Md5 = "not-an-md5" } }),
        "unknown role" => WithProduct(0, p => p with { Role = "exfiltrate" }),
        "nan scale" => WithDifference(d => d with { ScaleFactor = double.NaN }),
        "infinite background" => WithDifference(d => d with { BackgroundScience = double.PositiveInfinity }),
        "nan corner" => WithDifference(d => d with { CornersRaDec = [.. Enumerable.Repeat(10.0, 9), double.NaN] }),
        "negative sources" => WithDifference(d => d with { NSources = -3 }),
        "nan cpu" => _good with { Resources = _good.Resources with { CpuSeconds = double.NaN } },
        "infinite wall" => _good with { Resources = _good.Resources with { WallSeconds = double.PositiveInfinity } },
        "exit code too large" => _good with { ExitCode = 300 },
        "negative exit code" => _good with { ExitCode = -1 },
        "exit code registration sets" => _good with { ExitCode = ExitCodes.Lost, Reason = "pretending", Products = [], Outcome = null },
        "negative elapsed" => _good with { Ended = _good.Started.AddSeconds(-5) },
        "attempt zero" => _good with { Batch = _good.Batch with { Attempt = 0 } },
        "negative attempt" => _good with { Batch = _good.Batch with { Attempt = -2 } },
        "no outcome" => _good with { Outcome = null },
        "other rid" => WithDifference(d => d with { Rid = d.Rid + 1 }),
        "other config" => _good with { ConfigSha256 = new string('a', 64) },
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string, string> BadManifests => new()
    {
        { "dotdot", "products[0].file" }, { "double slash", "products[0].file" }, { "other bucket", "products[0].file" },
        { "other job's prefix", "products[0].file" }, { "negative size", "products[0].checksum.sizeBytes" },
        { "bad digest", "products[0].checksum.md5" }, { "unknown role", "products[0].role" },
        { "nan scale", "outcome.difference.scaleFactor" }, { "infinite background", "outcome.difference.backgroundScience" },
        { "nan corner", "outcome.difference.cornersRaDec[9]" }, { "negative sources", "outcome.difference.nSources" },
        { "nan cpu", "resources.cpuSeconds" }, { "infinite wall", "resources.wallSeconds" },
        { "exit code too large", "exitCode" }, { "negative exit code", "exitCode" }, { "exit code registration sets", "exitCode" },
        { "negative elapsed", "ended" }, { "attempt zero", "batch.attempt" }, { "negative attempt", "batch.attempt" },
        { "no outcome", "outcome" }, { "other rid", "difference image is of rid" }, { "other config", "configSha256" },
    };

    [Theory]
    [MemberData(nameof(BadManifests))]
    public async Task A_bad_manifest_closes_its_job_as_rejected_naming_the_field_and_registers_nothing(string name, string field)
    {
        await Contract.WriteAsync(_w.Store, Key, Bad(name));

        var report = await _w.Register.RegisterManifestAsync(Key);

        var failure = Assert.Single(report.Failures);
        Assert.Contains(field, failure.Message);
        Assert.Equal(1, report.Rejected);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var job = await conn.QuerySingleAsync<(short Status, int ExitCode, string Reason)>("select status, exitcode, reason from jobs where jid = @Jid", new { _science.Jid });
        Assert.Equal((1, ExitCodes.InvalidManifest), (job.Status, job.ExitCode));
        Assert.Contains(field, job.Reason);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from jobproducts where jid = @Jid", new { _science.Jid }));
    }

    [Fact]
    public async Task The_good_manifest_the_bad_ones_are_made_from_registers()
    {
        var report = await _w.Register.RegisterManifestAsync(Key);

        Assert.Equal((1, 0), (report.Registered, report.Failures.Count));
    }

    [Theory]
    [InlineData("evil/x/manifest_jid{0}.json")]
    [InlineData("20280907/jid{0}/sub/manifest_jid{0}.json")]
    [InlineData("20280908/jid{0}/manifest_jid{0}.json")]
    public async Task A_manifest_anywhere_but_its_jobs_key_is_refused_and_touches_no_job(string keyFormat)
    {
        var elsewhere = Product(string.Format(System.Globalization.CultureInfo.InvariantCulture, keyFormat, _science.Jid));
        await Contract.WriteAsync(_w.Store, elsewhere, _good);

        var report = await _w.Register.RegisterManifestAsync(elsewhere);

        Assert.Contains("belongs at", Assert.Single(report.Failures).Message);
        Assert.Equal((0, 0), (report.Registered, report.Rejected));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select status from jobs where jid = @Jid", new { _science.Jid }));
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages"));
    }

    [Fact]
    public async Task A_bad_manifest_for_a_job_already_closed_is_refused_and_changes_nothing()
    {
        await _w.Register.RegisterManifestAsync(Key);
        await Contract.WriteAsync(_w.Store, Key, Bad("dotdot"));

        var report = await _w.Register.RegisterManifestAsync(Key);

        Assert.Contains("products[0].file", Assert.Single(report.Failures).Message);
        Assert.Equal(0, report.Rejected);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal("1 0", await conn.ExecuteScalarAsync<string>("select status || ' ' || exitcode from jobs where jid = @Jid", new { _science.Jid }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from diffimages where status = 1"));
    }
}
