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
