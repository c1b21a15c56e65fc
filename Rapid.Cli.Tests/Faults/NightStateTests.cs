using Dapper;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Faults;

/// <summary>
/// The fault suite's own measure can fail: a lineage row naming a file the files table does not hold (what V017's dropped
/// foreign keys no longer refuse), an attempt step naming an attempt that does not exist (V018's), and a product stamped by
/// and a superseded file queued by and for jobs that do not exist (V019's) are each counted, and the night does not count as
/// survived.
/// </summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class NightStateTests(EmbeddedDatabaseFixture fixture)
{
    [Fact]
    public async Task A_lineage_row_naming_an_unrecorded_file_a_step_of_an_unknown_attempt_and_stamps_and_queued_files_of_unknown_jobs_are_counted_and_the_night_has_not_survived()
    {
        await using var survey = await TinySurvey.CreateAsync(fixture, epochs: 2, seed: 7);
        var store = survey.Home.OpenStore();
        var before = await NightState.MeasureAsync(survey.Database, store);
        Assert.True(before.Survived, before.ToString());

        await using (var conn = await survey.Database.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                insert into filederived (child, parent)
                select coalesce(max(fileid), 0) + 1000, coalesce(max(fileid), 0) + 1001 from files;
                insert into attemptsteps (jid, attempt, seq, step, started, ended, wallseconds, cpuseconds)
                values ((select coalesce(max(jid), 0) + 1000 from jobs), 1, 0, 'planted', now(), now(), 0, 0);
                insert into jobs (ppid, procdate, status, exitcode) values (18, '2099-12-31', 1, 0);
                insert into jobproducts (jid, role, filename, sizebytes, sha256, md5, stamped_by)
                select max(jid), 'night_recovery', 's3://planted/product.fits', 0, '', '', max(jid) + 1000 from jobs;
                insert into supersededfiles (uri, jid, owner, role, stamped, sizebytes)
                select 's3://planted/original.fits', max(jid) + 1000, max(jid) + 1001, 'diffimage', 's3://planted/copy.fits', 0 from jobs
                """);

        var after = await NightState.MeasureAsync(survey.Database, store);
        Assert.Equal(5, after.DanglingLineage);
        Assert.False(after.Survived, after.ToString());
    }
}
