using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Rapid.Functions.OpsDatabase;

/// <summary>
/// A private PostgreSQL cluster started from Debian's binaries (package <c>postgresql</c>), for
/// embedded mode and tests. Layout under the cluster directory: <c>pgdata/</c> (PGDATA) and
/// <c>socket/</c> (the unix socket). It accepts no TCP connections (listen_addresses = '') and
/// trusts local socket connections only; the socket directory is mode 0700, so only the cluster's
/// OS user (and root) can reach it. PostgreSQL refuses to run as root, so when this process is
/// root the server runs as Debian's <c>postgres</c> user through <c>runuser</c>.
/// </summary>
public sealed class LocalPostgresCluster
{
    public const string DatabaseName = "rapidopsdb";
    public const string UserName = "rapidopsdb";
    /// <summary>Only names the socket file (.s.PGSQL.5432); no TCP port is opened.</summary>
    private const int SocketPort = 5432;
    private const string ServerUser = "postgres";
    private const string RelocatedRoot = "/var/lib/rapid/clusters";

    private readonly Action<string> _log;

    private readonly bool _durable;

    /// <param name="durable">False only for throw-away clusters (tests): initdb --no-sync and fsync = off.</param>
    public LocalPostgresCluster(Action<string>? log = null, bool durable = true)
    {
        _log = log ?? (_ => { });
        _durable = durable;
    }

    /// <summary>The cluster directory actually used (after relocation, if any).</summary>
    public string? ClusterDirectory { get; private set; }

    /// <summary>
    /// Starts the cluster in <paramref name="dataDir"/> (creating it on first use), or reuses it when
    /// already running, and ensures role and database <c>rapidopsdb</c>. Returns the connection string.
    /// </summary>
    public async Task<string> EnsureStartedAsync(string dataDir, CancellationToken ct = default)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("the embedded ops database needs Linux (Debian's postgresql): give a server with --db or RAPID_DB");
        var bin = FindBinaries();
        var asRoot = IsRoot();
        // Two commands starting a stopped cluster at once would both run initdb or pg_ctl start: one at a time.
        using var startLock = await StartLock.AcquireAsync(Path.GetFullPath(dataDir) + ".lock", TimeSpan.FromMinutes(2), ct);
        var dir = ResolveClusterDirectory(Path.GetFullPath(dataDir), asRoot);
        ClusterDirectory = dir;
        var pgdata = Path.Combine(dir, "pgdata");
        var socket = Path.Combine(dir, "socket");
        if (Encoding.UTF8.GetByteCount(Path.Combine(socket, $".s.PGSQL.{SocketPort}")) > 100)
            throw new ArgumentException($"cluster directory {dir}: path too long for a unix socket (max ~100 bytes); use a shorter --home");

        if (!File.Exists(Path.Combine(pgdata, "PG_VERSION")))
            await InitDbAsync(bin, dir, pgdata, socket, asRoot, ct);
        Directory.CreateDirectory(socket);
        if (asRoot) await RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", dir], false, ct);
        RestrictSocketDirectory(socket);

        if (!await IsRunningAsync(bin, pgdata, asRoot, ct))
        {
            var logFile = Path.Combine(dir, "postgresql.log");
            var (code, _, err) = await RunAsync(Path.Combine(bin, "pg_ctl"),
                ["-D", pgdata, "-l", logFile, "-w", "-t", "60", "start"], asRoot, ct);
            if (code != 0)
                throw new InfrastructureException($"pg_ctl start failed for {pgdata}: {Tail(err)} {Tail(ReadLogTail(logFile))}".Trim());
            _log($"started PostgreSQL cluster {dir} (unix socket {socket}, no TCP)");
        }
        else _log($"reusing running PostgreSQL cluster {dir}");

        // Unpooled: a pooled connection of this process to a server that has since been stopped would fail its first command.
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString(socket, "postgres")) { Pooling = false }.ConnectionString;
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync(ct);
            await using var check = new NpgsqlCommand("select 1 from pg_database where datname = $1", conn);
            check.Parameters.AddWithValue(DatabaseName);
            if (await check.ExecuteScalarAsync(ct) is null)
            {
                // CREATE DATABASE cannot take a bound parameter; the name is our constant.
                await using var create = new NpgsqlCommand($"create database {DatabaseName} encoding 'UTF8'", conn);
                await create.ExecuteNonQueryAsync(ct);
            }
        }
        return ConnectionString(socket, DatabaseName);
    }

    /// <summary>Whether <paramref name="dataDir"/> holds a cluster (made by an earlier start), running or not.</summary>
    public static bool Exists(string dataDir)
    {
        var full = Path.GetFullPath(dataDir);
        if (!Directory.Exists(full)) return false;
        var dir = new DirectoryInfo(full).LinkTarget is { } target ? Path.GetFullPath(target, Path.GetDirectoryName(full)!) : full;
        return File.Exists(Path.Combine(dir, "pgdata", "PG_VERSION"));
    }

    /// <summary>Stops the cluster (pg_ctl stop -m fast); a cluster that is not running is left alone.</summary>
    public async Task StopAsync(string dataDir, CancellationToken ct = default)
    {
        var bin = FindBinaries();
        var asRoot = IsRoot();
        using var startLock = await StartLock.AcquireAsync(Path.GetFullPath(dataDir) + ".lock", TimeSpan.FromMinutes(2), ct);
        var full = Path.GetFullPath(dataDir);
        var dir = new DirectoryInfo(full).LinkTarget is { } target ? Path.GetFullPath(target, Path.GetDirectoryName(full)!) : full;
        var pgdata = Path.Combine(dir, "pgdata");
        if (!File.Exists(Path.Combine(pgdata, "PG_VERSION")) || !await IsRunningAsync(bin, pgdata, asRoot, ct)) return;
        var (code, _, err) = await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", pgdata, "-m", "fast", "-w", "stop"], asRoot, ct);
        if (code != 0) throw new InfrastructureException($"pg_ctl stop failed for {pgdata}: {Tail(err)}");
        _log($"stopped PostgreSQL cluster {dir}");
    }

    public static string ConnectionString(string socketDirectory, string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = socketDirectory, Port = SocketPort, Database = database, Username = UserName,
            Pooling = true, MaxPoolSize = 50,
        }.ConnectionString;

    /// <summary>Debian installs each major version under /usr/lib/postgresql/N/bin; the newest wins.</summary>
    public static string FindBinaries()
    {
        var root = "/usr/lib/postgresql";
        var bins = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(d => (Major: int.TryParse(Path.GetFileName(d), out var v) ? v : -1, Bin: Path.Combine(d, "bin")))
                .Where(x => x.Major > 0 && new[] { "initdb", "pg_ctl", "postgres" }.All(b => File.Exists(Path.Combine(x.Bin, b))))
                .OrderByDescending(x => x.Major).Select(x => x.Bin).ToList()
            : [];
        return bins.FirstOrDefault()
            ?? throw new InfrastructureException("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under /usr/lib/postgresql/*/bin: install Debian package postgresql");
    }

    private string ResolveClusterDirectory(string dataDir, bool asRoot)
    {
        if (new DirectoryInfo(dataDir).LinkTarget is { } link)
            return Path.GetFullPath(link, Path.GetDirectoryName(dataDir)!);
        if (!asRoot || AncestorsTraversableByOthers(dataDir))
        {
            Directory.CreateDirectory(dataDir);
            return dataDir;
        }
        if (Directory.Exists(dataDir))
        {
            if (Directory.EnumerateFileSystemEntries(dataDir).Any())
                throw new ArgumentException($"{dataDir} is not reachable by the '{ServerUser}' user and is not empty: move the clone somewhere world-traversable or remove {dataDir}");
            Directory.Delete(dataDir);
        }
        // The postgres user cannot reach dataDir (e.g. a clone under /root): keep the cluster where
        // it can, and leave a symlink at dataDir so the next run finds it.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dataDir)))[..16];
        var relocated = Path.Combine(RelocatedRoot, hash);
        Directory.CreateDirectory(relocated);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(RelocatedRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        Directory.CreateDirectory(Path.GetDirectoryName(dataDir)!);
        Directory.CreateSymbolicLink(dataDir, relocated);
        _log($"{dataDir} is not reachable by the '{ServerUser}' user: cluster placed in {relocated}, {dataDir} links to it");
        return relocated;
    }

    /// <summary>True when every existing ancestor of <paramref name="path"/> has the other-execute bit.</summary>
    private static bool AncestorsTraversableByOthers(string path)
    {
        for (var d = new DirectoryInfo(path).Parent; d is not null; d = d.Parent)
            if (d.Exists && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(d.FullName) & UnixFileMode.OtherExecute) == 0) return false;
        return true;
    }

    private async Task InitDbAsync(string bin, string dir, string pgdata, string socket, bool asRoot, CancellationToken ct)
    {
        if (Directory.Exists(pgdata) && Directory.EnumerateFileSystemEntries(pgdata).Any())
            throw new ArgumentException($"{pgdata} exists and is not a PostgreSQL data directory (no PG_VERSION): remove it or choose another --home");
        Directory.CreateDirectory(pgdata);
        Directory.CreateDirectory(socket);
        if (asRoot) await RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", dir], false, ct);
        var (code, _, err) = await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", pgdata, "-U", UserName, "-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host=reject", .. (_durable ? Array.Empty<string>() : ["--no-sync"])], asRoot, ct);
        if (code != 0) throw new InfrastructureException($"initdb failed for {pgdata}: {Tail(err)}");
        var settings = $"""

            # Rapid embedded cluster: unix socket only, inside the cluster directory.
            listen_addresses = ''
            port = {SocketPort}
            unix_socket_directories = '{socket.Replace("'", "''")}'
            unix_socket_permissions = 0700
            timezone = 'America/Los_Angeles'
            max_connections = 100
            shared_buffers = 128MB
            fsync = {(_durable ? "on" : "off")}
            synchronous_commit = off
            """;
        await File.AppendAllTextAsync(Path.Combine(pgdata, "postgresql.conf"), settings, ct);
        // Only local socket connections, trusted; no host lines at all.
        await File.WriteAllTextAsync(Path.Combine(pgdata, "pg_hba.conf"), "local all all trust\n", ct);
        _log($"initialised PostgreSQL cluster in {pgdata}");
    }

    private static void RestrictSocketDirectory(string socket)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(socket, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    private static async Task<bool> IsRunningAsync(string bin, string pgdata, bool asRoot, CancellationToken ct)
    {
        // pg_ctl status checks postmaster.pid and that its process is alive: 0 running, 3 not running.
        var (code, _, _) = await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", pgdata, "status"], asRoot, ct);
        return code == 0;
    }

    private static bool IsRoot() => geteuid() == 0;

    [DllImport("libc", SetLastError = false)]
    private static extern uint geteuid();

    private static async Task<(int Code, string Out, string Err)> RunAsync(string file, IReadOnlyList<string> args, bool asServerUser, CancellationToken ct)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asServerUser)
        {
            psi.FileName = "runuser";
            foreach (var a in (string[])["-u", ServerUser, "--", file]) psi.ArgumentList.Add(a);
        }
        else psi.FileName = file;
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Run from a directory the server user can read, and keep the caller's PG* settings out.
        psi.WorkingDirectory = "/";
        foreach (var k in new[] { "PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE" }) psi.Environment.Remove(k);
        using var p = Process.Start(psi) ?? throw new InfrastructureException($"could not start {psi.FileName}");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return (p.ExitCode, await stdout, await stderr);
    }

    private static string ReadLogTail(string logFile)
    {
        try { return File.Exists(logFile) ? string.Join(' ', File.ReadLines(logFile).TakeLast(3)) : ""; }
        catch (IOException) { return ""; }
    }

    private static string Tail(string text)
    {
        var oneLine = string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(3));
        return oneLine.Length > 400 ? oneLine[^400..] : oneLine;
    }

    /// <summary>An exclusive lock file (flock on Unix through FileShare.None), waited for; the kernel drops it if the holder dies.</summary>
    private sealed class StartLock(FileStream held) : IDisposable
    {
        public static async Task<StartLock> AcquireAsync(string path, TimeSpan patience, CancellationToken ct)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var waited = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    return new StartLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
                }
                catch (IOException) when (waited.Elapsed < patience)
                {
                    await Task.Delay(100, ct);
                }
                catch (IOException e)
                {
                    throw new InfrastructureException($"{path}: another process has been starting or stopping this cluster for {patience.TotalSeconds:0} s", e);
                }
            }
        }

        public void Dispose() => held.Dispose();
    }
}
