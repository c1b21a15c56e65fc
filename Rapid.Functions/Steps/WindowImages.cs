using Dapper;
using Npgsql;
using Rapid.Core.Jobs;

namespace Rapid.Functions.Steps;

/// <summary>How many best L2 images were observed in a window, and how many of them are already processed.</summary>
/// <param name="Observed">Best L2 images whose DATE-OBS is in the window.</param>
/// <param name="WithProducts">Of those, the ones with a difference image registered on the processing date.</param>
/// <param name="Planned">Of those, the ones any processing date planned a science job for.</param>
public sealed record WindowImageCount(int Observed, int WithProducts, int Planned);

/// <summary>What a window holds, to say why a night had nothing to do.</summary>
public static class WindowImages
{
    public static async Task<WindowImageCount> CountAsync(NpgsqlDataSource dataSource, ObservationWindow window, ProcessingDate procDate,
        CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<WindowImageCount>(new CommandDefinition("""
            select count(*)::int as Observed,
                   count(*) filter (where exists (select 1 from jobs j join diffimages d on d.jid = j.jid
                                                  where j.ppid = 15 and j.procdate = @procdate and j.rid = l.rid and j.status = 1))::int as WithProducts,
                   count(*) filter (where exists (select 1 from jobs j where j.ppid = 15 and j.rid = l.rid))::int as Planned
            from l2files l
            where l.dateobs >= @start and l.dateobs < @end and l.vbest > 0 and l.status > 0
            """,
            new
            {
                start = DateTime.SpecifyKind(window.Start, DateTimeKind.Utc), end = DateTime.SpecifyKind(window.End, DateTimeKind.Utc),
                procdate = procDate.Date,
            }, cancellationToken: ct));
    }
}
