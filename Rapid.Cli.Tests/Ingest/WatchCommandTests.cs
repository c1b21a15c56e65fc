using Dapper;
using Rapid.Cli.Tests.Support;
using Rapid.Core.Storage;
using Rapid.Pipeline.Fits;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Tests.Ingest;

/// <summary>
/// A real <c>rapid watch</c> process over a directory where files land while it runs: a new image written slowly in
/// place, a bad file, and a file under a temporary dot name that never completes. The image is read only once complete,
/// registered once, and processed (reference made from the earlier epochs, its science job, post-processing) to a
/// registered, stamped difference image; the bad file is one line; the temporary one is never touched; SIGTERM ends it with 143.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class WatchCommandTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task Files_landing_mid_run_are_read_once_complete_and_the_new_image_gets_its_difference_image()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 4, seed: 23);
        var landing = Directory.CreateTempSubdirectory("rapid-landing-").FullName;
        var staging = Directory.CreateTempSubdirectory("rapid-staging-").FullName;
        try
        {
            // The next epoch of an image of the survey: the same pixels a day after the last epoch (a new exposure).
            var last = survey.Survey.Images.OrderBy(i => i.DateObsUtc).Last();
            var image = FitsFile.ReadImage(last.Path);
            var dateObs = last.DateObsUtc.AddDays(1);
            image.Header.Set("DATE-OBS", SimulatedFiles.FormatDateObs(dateObs));
            image.Header.Set("MJD-OBS", last.MjdObs + 1);
            var newImage = Path.Combine(staging, "next-epoch.fits");
            FitsFile.WriteImage(newImage, image);
            image.Header.Remove("EXPTIME");
            FitsFile.WriteImage(Path.Combine(staging, "no-exptime.fits"), image);
            var bytes = await File.ReadAllBytesAsync(newImage);

            using var rapid = RapidProcess.Start("watch", landing, "--db", survey.OwnerConnectionString, "--home", survey.Home.Path,
                "--procdate", "20280920", "--settle", "1.5", "--poll", "0.2", "--parallel", "1", "--reference-grid", TinySurvey.ReferenceGrid.ToString());
            await rapid.WaitUntilAsync(() => rapid.Output.Contains("Watching"), TimeSpan.FromMinutes(1));

            // A writer that never finishes, under a temporary name; then the image written in place in four parts, 0.4 s apart.
            await File.WriteAllBytesAsync(Path.Combine(landing, ".next-epoch.fits"), bytes[..(bytes.Length / 2)]);
            await using (var writer = File.Create(Path.Combine(landing, "next-epoch.fits")))
            {
                foreach (var part in bytes.Chunk(bytes.Length / 4 + 1))
                {
                    await writer.WriteAsync(part);
                    await writer.FlushAsync();
                    await Task.Delay(400);
                }
            }
            File.Copy(Path.Combine(staging, "no-exptime.fits"), Path.Combine(landing, "no-exptime.fits"));
            await rapid.WaitUntilAsync(() => rapid.Output.Contains("difference image") && rapid.Error.Contains("no-exptime.fits"), TimeSpan.FromMinutes(5));
            // The same image again under another name: registered already, processed already, not processed again.
            File.Copy(newImage, Path.Combine(landing, "next-epoch-again.fits"));
            await rapid.WaitUntilAsync(() => rapid.Output.Contains("next-epoch-again.fits"), TimeSpan.FromMinutes(1));

            rapid.Signal("TERM");
            var code = await rapid.WaitForExitAsync(TimeSpan.FromMinutes(1));

            Assert.True(code == 143, $"exit {code}: {rapid.Error}");
            Assert.DoesNotContain("truncated", rapid.Error);
            var refused = Assert.Single(rapid.Error.Split('\n'), l => l.Contains("no-exptime.fits"));
            Assert.Contains("EXPTIME", refused);
            Assert.Contains("next-epoch-again.fits: rid", rapid.Output);
            Assert.Contains("already registered and processed", rapid.Output);
            await using var conn = await survey.Database.OpenConnectionAsync();
            var md5 = FileChecksum.Of(newImage).Md5;
            var rid = Assert.Single(await conn.QueryAsync<long>("select rid from l2files where checksum = @md5", new { md5 }));
            Assert.Equal(survey.Survey.Images.Count + 1, await conn.ExecuteScalarAsync<int>("select count(*) from l2files"));
            var (jid, exit, diff) = await conn.QuerySingleAsync<(long, int, string)>("""
                select j.jid, j.exitcode, d.filename from jobs j join diffimages d on d.jid = j.jid
                where j.ppid = 15 and j.rid = @rid and d.vbest = 1 and d.status = 1
                """, new { rid });
            Assert.True(exit is 0 or 32, $"science job {jid} exit {exit}");
            Assert.Contains(diff, rapid.Output);
            // Post-processed: the ppid-17 job of that science job succeeded and the registered name is the stamped one.
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from jobs where ppid = 17 and parent_jid = @jid and exitcode = 0", new { jid }));
            Assert.True(File.Exists(survey.Home.OpenStore().PathOf(ObjectRef.Parse(diff))), diff);
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from refimages where status = 1"));
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("select count(*) from jobs where ppid = 15 and rid = @rid", new { rid }));
            // No object of the second copy: the data bucket holds the survey's files and the one landed image.
            Assert.Single(Directory.EnumerateFiles(Path.Combine(survey.Home.StoreRoot, Buckets.Default.Data, "l2"), "*", SearchOption.AllDirectories));
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("select count(*) from runleases"));
        }
        finally
        {
            Directory.Delete(landing, recursive: true);
            Directory.Delete(staging, recursive: true);
        }
    }
}
