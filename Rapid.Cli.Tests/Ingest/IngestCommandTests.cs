using Dapper;
using Npgsql;
using Rapid.Cli.Commands;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Storage;

namespace Rapid.Cli.Tests.Ingest;

/// <summary>
/// <c>rapid ingest</c> on L2 files astropy wrote as surveys write them: what it registers is what astropy reads from the
/// same headers (observation time, filter, exposure time, SCA, the TAN-SIP footprint, the MD5), a refused file is one
/// line naming the file and the keyword and leaves nothing, and ingesting again changes nothing.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class IngestCommandTests(EmbeddedDatabaseFixture fixture) : IAsyncLifetime
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"rapid-ingest-{Guid.NewGuid():N}"[..25]);
    private AstropyL2Files _files = null!;
    private string _db = "";

    public async Task InitializeAsync()
    {
        _files = await AstropyL2Files.WriteAsync();
        _db = await fixture.CreateDatabaseAsync();
    }

    public Task DisposeAsync()
    {
        _files.Dispose();
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
        return Task.CompletedTask;
    }

    private Task<(int Code, string Output, string Error)> Ingest(params string[] paths) =>
        ConsoleCapture.InvokeAsync(["ingest", .. paths, "--db", _db, "--home", _home]);

    private sealed record Row(string FileName, string Checksum, short Sca, string Filter, double ExpTime, double MjdObs, int Version, short Vbest,
        int Naxis1, int Naxis2, double Ra0, double Dec0, double Ra1, double Dec1, double Ra2, double Dec2, double Ra3, double Dec3, double Ra4, double Dec4);

    private async Task<List<Row>> RowsAsync()
    {
        await using var conn = new NpgsqlConnection(_db);
        return (await conn.QueryAsync<Row>("""
            select l.filename, l.checksum, l.sca, f.filter, l.exptime, l.mjdobs, l.version, l.vbest, l.naxis1, l.naxis2,
                   m.ra0, m.dec0, m.ra1, m.dec1, m.ra2, m.dec2, m.ra3, m.dec3, m.ra4, m.dec4
            from l2files l join filters f on f.fid = l.fid join l2filemeta m on m.rid = l.rid order by l.rid
            """)).ToList();
    }

    private async Task<long> CountAsync(string table)
    {
        await using var conn = new NpgsqlConnection(_db);
        return await conn.ExecuteScalarAsync<long>($"select count(*) from {table}"); // a table name of this test's own
    }

    private string StoredFile(Row row) => new DirectoryObjectStore(Path.Combine(_home, "store")).PathOf(ObjectRef.Parse(row.FileName));

    [Fact]
    public async Task Survey_headers_are_registered_as_astropy_reads_them_and_each_bad_file_is_one_line_naming_its_keyword()
    {
        var (code, output, error) = await Ingest(_files.GoodDirectory, _files.BadDirectory);

        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains($"{_files.Good.Count} registered, 0 already registered, {_files.Refused.Count} refused", output);
        var lines = error.Trim().Split('\n').Where(l => l.Contains("ingest:")).ToList();
        Assert.Equal(_files.Refused.Count, lines.Count);
        foreach (var (file, keyword) in _files.Refused)
        {
            var line = Assert.Single(lines, l => l.Contains(Path.Combine(_files.BadDirectory, file)));
            Assert.Contains(keyword, line);
        }
        var rows = await RowsAsync();
        Assert.Equal(_files.Good.Count, rows.Count);
        Assert.Equal(_files.Good.Count, await CountAsync("exposures"));
        foreach (var (name, expected) in _files.Good)
        {
            var row = Assert.Single(rows, r => r.FileName.EndsWith("/" + name, StringComparison.Ordinal));
            Assert.Equal((expected.Filter, (short)expected.Sca, expected.Md5, expected.Naxis1, expected.Naxis2, 1, (short)1),
                (row.Filter, row.Sca, row.Checksum, row.Naxis1, row.Naxis2, row.Version, row.Vbest));
            Assert.Equal(expected.ExpTime, row.ExpTime, 9);
            Assert.True(Math.Abs(row.MjdObs - expected.Mjd) * 86400 < 1e-3, $"{name}: MJD {row.MjdObs} is not astropy's {expected.Mjd}");
            double[][] sky = [[row.Ra0, row.Dec0], [row.Ra1, row.Dec1], [row.Ra2, row.Dec2], [row.Ra3, row.Dec3], [row.Ra4, row.Dec4]];
            double[][] astropy = [expected.Center, .. expected.Corners];
            for (var i = 0; i < sky.Length; i++)
            {
                var offArcsec = Math.Sqrt(Math.Pow((sky[i][0] - astropy[i][0]) * Math.Cos(astropy[i][1] * Math.PI / 180), 2) + Math.Pow(sky[i][1] - astropy[i][1], 2)) * 3600;
                Assert.True(offArcsec < 1e-4, $"{name}: point {i} is {offArcsec:G3}\" from astropy's all_pix2world");
            }
            // The registered object is the file, byte for byte.
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_files.GoodDirectory, name)), await File.ReadAllBytesAsync(StoredFile(row)));
        }
        // Nothing of a refused file: no object in the data bucket beyond the registered ones.
        var stored = Directory.EnumerateFiles(Path.Combine(_home, "store", Buckets.Default.Data), "*", SearchOption.AllDirectories).Order().ToList();
        Assert.Equal(rows.Select(StoredFile).Order(), stored);
    }

    [Fact]
    public async Task Ingesting_the_same_files_again_changes_nothing_and_a_changed_file_becomes_the_best_new_version()
    {
        Assert.Equal(0, (await Ingest(_files.GoodDirectory)).Code);
        var before = await RowsAsync();

        var (code, output, error) = await Ingest(_files.GoodDirectory);

        Assert.True(code == 0, error);
        Assert.Contains($"0 registered, {_files.Good.Count} already registered, 0 refused", output);
        Assert.Equal(before, await RowsAsync());
        Assert.Equal(_files.Good.Count, await CountAsync("exposures"));
        // The same bytes under another name: the row it has already names the first object; no second object is kept.
        var renamed = Path.Combine(_files.Root, "renamed.fits");
        File.Copy(Path.Combine(_files.GoodDirectory, "roman-primary.fits"), renamed);
        (code, output, error) = await Ingest(renamed);
        Assert.True(code == 0, error);
        Assert.Contains("0 registered, 1 already registered", output);
        Assert.Equal(before, await RowsAsync());
        Assert.Equal(before.Select(StoredFile).Order(),
            Directory.EnumerateFiles(Path.Combine(_home, "store", Buckets.Default.Data), "*", SearchOption.AllDirectories).Order());

        (code, _, error) = await Ingest(Path.Combine(_files.SecondVersionDirectory, "roman-primary.fits"));

        Assert.True(code == 0, error);
        var versions = (await RowsAsync()).Where(r => r.FileName.EndsWith("/roman-primary.fits", StringComparison.Ordinal)).OrderBy(r => r.Version).ToList();
        Assert.Equal([(1, (short)0), (2, (short)1)], versions.Select(v => (v.Version, v.Vbest)));
        Assert.NotEqual(versions[0].FileName, versions[1].FileName); // two objects: the first version's bytes are kept
        Assert.Equal(_files.Good.Count, await CountAsync("exposures"));
    }

    [Fact]
    public async Task A_path_that_does_not_exist_is_bad_input_before_anything_is_opened()
    {
        var (code, _, error) = await Ingest(Path.Combine(_files.Root, "nowhere"));

        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains("nowhere: no such file or directory", error);
        Assert.False(Directory.Exists(_home), "no home is made for nothing");
    }
}
