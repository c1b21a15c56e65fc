using Dapper;
using Rapid.Core.Sky;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Steps;

[Collection(OpsDatabaseCollection.Name)]
public sealed class RegisterSurveyImagesTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    [Fact]
    public async Task Registers_exposure_file_and_meta_with_the_field_of_the_image_centre()
    {
        var img = _w.Image(150.1, 2.2, OpsWorld.Night, "J129", sca: 7);
        var r = (await _w.Ingest.RegisterAsync([img]))[0];

        Assert.True(r.Inserted);
        Assert.Equal((1, 1), (r.Version, r.Vbest));
        Assert.Equal(SkyTessellation.Roman.FieldOf(150.1, 2.2), r.Field);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(short Fid, short Sca, string Filename, long Field)>(
            "select fid, sca, filename, field from l2files where rid = @Rid", new { r.Rid });
        Assert.Equal((3, 7, img.File.ToString(), r.Field), ((int)row.Fid, (int)row.Sca, row.Filename, row.Field));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from l2filemeta where rid = @Rid", new { r.Rid }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from fields where field = @Field", new { r.Field }));
        var z = await conn.ExecuteScalarAsync<double>("select z from l2filemeta where rid = @Rid", new { r.Rid });
        Assert.Equal(Math.Sin(2.2 * Math.PI / 180), z, 12);
    }

    [Fact]
    public async Task Re_ingesting_the_same_file_is_a_no_op_and_a_changed_file_becomes_the_new_best_version()
    {
        var img = _w.Image(10, -5, OpsWorld.Night);
        var first = (await _w.Ingest.RegisterAsync([img]))[0];
        var again = (await _w.Ingest.RegisterAsync([img]))[0];
        Assert.False(again.Inserted);
        Assert.Equal(first.Rid, again.Rid);

        var changed = (await _w.Ingest.RegisterAsync([img with { Md5 = "0123456789abcdef0123456789abcdef" }]))[0];
        Assert.True(changed.Inserted);
        Assert.Equal((2, 1), (changed.Version, changed.Vbest));
        Assert.Equal((1, 0), await _w.Versions.GetAsync(Rapid.Functions.OpsDatabase.VersionedProduct.L2File, first.Rid));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from exposures"));
    }

    [Fact]
    public async Task An_unknown_filter_is_rejected_naming_the_file_and_nothing_is_written()
    {
        var good = _w.Image(10, 5, OpsWorld.Night);
        var bad = _w.Image(10, 5, OpsWorld.Night, filter: "Q999");
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _w.Ingest.RegisterAsync([good, bad]));
        Assert.Contains("Q999", e.Message);
        Assert.Contains(bad.File.ToString(), e.Message);
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from l2files"));
    }

    [Theory]
    [InlineData(0, 100.0, "SCA 0")]
    [InlineData(3, -1.0, "EXPTIME")]
    public async Task Invalid_header_values_are_rejected_with_one_line(int sca, double exptime, string named)
    {
        var img = _w.Image(10, 5, OpsWorld.Night) with { Sca = sca, ExpTime = exptime };
        var e = await Assert.ThrowsAsync<ArgumentException>(() => _w.Ingest.RegisterAsync([img]));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Stores_sip_coefficients_as_json()
    {
        var img = _w.Image(200, 30, OpsWorld.Night);
        img = img with { Wcs = img.Wcs with { CType1 = "RA---TAN-SIP", CType2 = "DEC--TAN-SIP",
            Sip = new Rapid.Functions.Steps.SipCoefficients(2, 2, new Dictionary<string, double> { ["A_2_0"] = 1.5e-6 }, new Dictionary<string, double> { ["B_0_2"] = -2e-6 }) } };
        var r = (await _w.Ingest.RegisterAsync([img]))[0];
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(1.5e-6, await conn.ExecuteScalarAsync<double>("select (sip -> 'a' ->> 'A_2_0')::float8 from l2files where rid = @Rid", new { r.Rid }));
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("select (sip ->> 'b_order')::int from l2files where rid = @Rid", new { r.Rid }));
    }
}

/// <summary>Ingest at survey scale, and the version rules applied to a whole batch at once.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class RegisterSurveyImagesAtScaleTests(OpsDatabaseFixture db) : IAsyncLifetime
{
    private OpsWorld _w = null!;
    public async Task InitializeAsync() => _w = await OpsWorld.CreateAsync(db);
    public async Task DisposeAsync() => await _w.DisposeAsync();

    /// <summary>Exposures of 18 SCAs each, spread over the sky, one second apart.</summary>
    private List<Rapid.Functions.Steps.L2FileRegistration> Survey(int images)
    {
        var start = new DateTime(2028, 9, 7, 4, 0, 0, DateTimeKind.Utc);
        return Enumerable.Range(0, images).Select(i =>
        {
            var exposure = i / 18;
            var t = start.AddSeconds(exposure);
            return _w.Image((exposure * 0.37) % 360, -60 + (exposure % 1000) * 0.1, t, sca: 1 + i % 18) with
            {
                DateObs = t, MjdObs = 40587.0 + (t - DateTime.UnixEpoch).TotalDays, File = _w.Keys.L2File($"survey/{exposure}_{1 + i % 18}.fits"),
            };
        }).ToList();
    }

    [Fact]
    public async Task Twenty_thousand_images_register_in_one_transaction_with_the_default_lock_table()
    {
        // One advisory lock per image in one transaction ran PostgreSQL's lock table (max_locks_per_transaction 64 x
        // max_connections 100 by default) out of shared memory above ~13,000 images.
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal("64", await conn.ExecuteScalarAsync<string>("show max_locks_per_transaction"));
        var images = Survey(20_000);

        var registered = await _w.Ingest.RegisterAsync(images);

        Assert.Equal(20_000, registered.Count(r => r.Inserted));
        Assert.Equal(20_000, registered.Select(r => r.Rid).Distinct().Count());
        Assert.Equal((20_000L, 20_000L, 1112L), await conn.QuerySingleAsync<(long, long, long)>(
            "select (select count(*) from l2files where vbest = 1), (select count(*) from l2filemeta), (select count(*) from exposures)"));
        // Each result is the row of its own input.
        var sample = registered[12_345];
        Assert.Equal(images[12_345].File.ToString(), await conn.ExecuteScalarAsync<string>("select filename from l2files where rid = @Rid", new { sample.Rid }));
        // Again: every file is already known; nothing is added.
        var again = await _w.Ingest.RegisterAsync(images);
        Assert.DoesNotContain(again, r => r.Inserted);
        Assert.Equal(registered.Select(r => r.Rid), again.Select(r => r.Rid));
    }

    [Fact]
    public async Task Within_one_batch_a_repeated_file_is_one_row_and_changed_files_take_the_next_versions()
    {
        var img = _w.Image(20, 10, OpsWorld.Night, sca: 4);
        var changed = img with { Md5 = "feedfacefeedfacefeedfacefeedface" };

        var r = await _w.Ingest.RegisterAsync([img, img, changed]);

        Assert.Equal(r[0].Rid, r[1].Rid);
        Assert.Equal((true, false, true), (r[0].Inserted, r[1].Inserted, r[2].Inserted));
        Assert.Equal((1, 0), (r[0].Version, (int)r[0].Vbest));
        Assert.Equal((2, 1), (r[2].Version, (int)r[2].Vbest));
    }

    [Fact]
    public async Task A_new_version_of_a_locked_best_file_is_registered_but_does_not_displace_it()
    {
        var img = _w.Image(20, 10, OpsWorld.Night, sca: 4);
        var first = (await _w.Ingest.RegisterAsync([img]))[0];
        await _w.Versions.LockAsync(Rapid.Functions.OpsDatabase.VersionedProduct.L2File, first.Rid);

        var newer = (await _w.Ingest.RegisterAsync([img with { Md5 = "feedfacefeedfacefeedfacefeedface" }]))[0];

        Assert.Equal((2, 0), (newer.Version, (int)newer.Vbest));
        Assert.Equal((1, 2), await _w.Versions.GetAsync(Rapid.Functions.OpsDatabase.VersionedProduct.L2File, first.Rid));
    }

    [Fact]
    public async Task Two_ingests_of_the_same_files_at_once_register_each_file_once()
    {
        var images = Survey(360);
        var both = await Task.WhenAll(_w.Ingest.RegisterAsync(images), _w.Ingest.RegisterAsync(images));

        Assert.Equal(both[0].Select(r => r.Rid), both[1].Select(r => r.Rid));
        Assert.Equal(360, both.SelectMany(b => b).Count(r => r.Inserted));
        await using var conn = await _w.DataSource.OpenConnectionAsync();
        Assert.Equal(360, await conn.ExecuteScalarAsync<int>("select count(*) from l2files"));
    }
}
