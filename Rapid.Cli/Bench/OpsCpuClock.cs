using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Rapid.Cli.Bench;

/// <summary>CPU seconds used so far by this process and by the database server (its postmaster and every backend, live or exited).</summary>
/// <param name="ClientSystem">The part of <paramref name="Client"/> spent in the kernel (file system calls, page faults).</param>
/// <param name="Server">Null when the server's processes cannot be read (another machine, another container).</param>
public readonly record struct OpsCpu(double Client, double ClientSystem, double? Server)
{
    public static OpsCpu operator -(OpsCpu a, OpsCpu b) => new(a.Client - b.Client, a.ClientSystem - b.ClientSystem, a.Server - b.Server);
}

/// <summary>
/// Reads <see cref="OpsCpu"/> from /proc: on a shared machine wall time moves with the other processes' load, CPU time
/// far less, so the bench reports both. The server's CPU is the postmaster's own and its reaped children's
/// (/proc/PID/stat utime, stime, cutime, cstime) plus each live child's.
/// </summary>
internal sealed class OpsCpuClock
{
    private const double TicksPerSecond = 100; // USER_HZ, as /proc reports times on Linux.
    private readonly int? _postmaster;

    private OpsCpuClock(int? postmaster) => _postmaster = postmaster;

    /// <summary>The clock for the server behind <paramref name="dataSource"/>: its postmaster is the parent of one of its backends.</summary>
    public static async Task<OpsCpuClock> CreateAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("select pg_backend_pid()", conn);
        var backend = (int)(await cmd.ExecuteScalarAsync(ct))!;
        var stat = Stat(backend);
        return new OpsCpuClock(stat is null ? null : int.Parse(stat[1], CultureInfo.InvariantCulture));
    }

    public OpsCpu Read()
    {
        using var self = Process.GetCurrentProcess();
        return new(self.TotalProcessorTime.TotalSeconds, self.PrivilegedProcessorTime.TotalSeconds, ServerSeconds());
    }

    private double? ServerSeconds()
    {
        if (_postmaster is not { } pm || Stat(pm) is not { } own) return null;
        var ticks = Ticks(own);
        try
        {
            foreach (var child in File.ReadAllText($"/proc/{pm}/task/{pm}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (Stat(int.Parse(child, CultureInfo.InvariantCulture)) is { } stat) ticks += Ticks(stat);
        }
        catch (IOException)
        {
            return null;
        }
        return ticks / TicksPerSecond;
    }

    /// <summary>The fields of /proc/PID/stat after the command name (state first), or null when the process is gone or unreadable.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // utime, stime, cutime, cstime are fields 14-17 of stat, 11-14 after the command name (0-based).
    private static long Ticks(string[] stat) => stat[11..15].Sum(t => long.Parse(t, CultureInfo.InvariantCulture));
}
