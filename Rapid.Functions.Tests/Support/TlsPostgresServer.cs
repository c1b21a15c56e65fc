using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Tests.Support;

/// <summary>
/// A throw-away PostgreSQL (Debian's binaries) that accepts only TLS connections on 127.0.0.1 (a
/// free port), with a server certificate for <c>localhost</c> signed by a test CA made here
/// (<see cref="CaCertificatePath"/>); <see cref="OtherCaCertificatePath"/> is a CA that signed
/// nothing of the server's. Stands in for RDS Proxy / RDS, whose certificates a client must verify.
/// </summary>
public sealed class TlsPostgresServer : IAsyncLifetime
{
    private const string ServerUser = "postgres";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"rapid-tls-pg-{Guid.NewGuid():N}"[..24]);
    private string _bin = "";

    public int Port { get; private set; }
    public string CaCertificatePath => Path.Combine(_dir, "ca.pem");
    public string OtherCaCertificatePath => Path.Combine(_dir, "other-ca.pem");
    public const string Database = "postgres";
    public const string User = "rapidtls";

    private string DataDir => Path.Combine(_dir, "pgdata");

    public async Task InitializeAsync()
    {
        _bin = LocalPostgresCluster.FindBinaries();
        Directory.CreateDirectory(_dir);
        WriteCertificates();
        var asRoot = Environment.UserName == "root";
        if (asRoot) await RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", _dir], asServerUser: false);
        await RunAsync(Path.Combine(_bin, "initdb"), ["-D", DataDir, "-U", User, "--auth=trust", "--no-sync"], asRoot);
        Port = FreePort();
        await File.AppendAllTextAsync(Path.Combine(DataDir, "postgresql.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = '{_dir}'
            ssl = on
            ssl_cert_file = '{Path.Combine(_dir, "server.pem")}'
            ssl_key_file = '{Path.Combine(_dir, "server.key")}'
            fsync = off
            """);
        // TLS or nothing: no plain host connections, no socket ones.
        await File.WriteAllTextAsync(Path.Combine(DataDir, "pg_hba.conf"), "hostssl all all 127.0.0.1/32 trust\n");
        if (asRoot) await RunAsync("chown", ["-R", $"{ServerUser}:{ServerUser}", _dir], asServerUser: false);
        await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDir, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "start"], asRoot);
    }

    public async Task DisposeAsync()
    {
        try { await RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", DataDir, "-m", "immediate", "-w", "stop"], Environment.UserName == "root"); }
        catch (InvalidOperationException) { /* not started */ }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A CA, the server's certificate (localhost, 127.0.0.1) signed by it, and another CA.</summary>
    private void WriteCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Rapid test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(CaCertificatePath, ca.ExportCertificatePem());

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var server = serverRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(Path.Combine(_dir, "server.pem"), server.ExportCertificatePem());
        var keyPath = Path.Combine(_dir, "server.key");
        File.WriteAllText(keyPath, serverKey.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite); // PostgreSQL refuses a key others can read

        using var otherKey = RSA.Create(2048);
        var otherRequest = new CertificateRequest("CN=Some other CA", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        otherRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var other = otherRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(OtherCaCertificatePath, other.ExportCertificatePem());
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task RunAsync(string file, IReadOnlyList<string> arguments, bool asServerUser)
    {
        var start = new ProcessStartInfo(asServerUser ? "runuser" : file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        if (asServerUser) foreach (var a in new[] { "-u", ServerUser, "--", file }) start.ArgumentList.Add(a);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {await errors} {await output}");
    }
}
