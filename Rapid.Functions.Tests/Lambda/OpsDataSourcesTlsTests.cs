using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Functions.Lambda;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>
/// Defect 8 of issue 9: the functions' connection encrypted but trusted any certificate
/// (SslMode.Require), so a man in the middle with a certificate of his own was let in. Against a
/// TLS-only PostgreSQL whose certificate a test CA signed: verified against that CA it connects over
/// TLS; against another CA (what an impostor's certificate amounts to) it must refuse.
/// </summary>
public sealed class OpsDataSourcesTlsTests(TlsPostgresServer server) : IClassFixture<TlsPostgresServer>
{
    private LambdaEnvironment Environment(string rootCertificate, string secretId, LoopbackHttpServer extension) =>
        new(new Dictionary<string, string>
        {
            [LambdaEnvironment.DbHostVariable] = "localhost",
            [LambdaEnvironment.DbPortVariable] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [LambdaEnvironment.DbNameVariable] = TlsPostgresServer.Database,
            [LambdaEnvironment.DbSecretIdVariable] = secretId,
            [LambdaEnvironment.DbRootCertificateVariable] = rootCertificate,
            [DatabaseSecret.PortVariable] = extension.Endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [DatabaseSecret.TokenVariable] = "token",
        }.GetValueOrDefault);

    private static LoopbackHttpServer Extension() => LoopbackHttpServer.AnswerOnce(_ =>
        (200, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["SecretString"] = JsonSerializer.Serialize(new Dictionary<string, string> { ["username"] = TlsPostgresServer.User, ["password"] = "unused" }),
        })));

    [Fact]
    public async Task A_certificate_of_the_trusted_CA_for_the_host_connects_over_TLS()
    {
        var extension = Extension();
        var env = Environment(server.CaCertificatePath, $"secret-{Guid.NewGuid():N}", extension);

        var dataSource = await OpsDataSources.GetAsync(env);
        await using var conn = await dataSource.OpenConnectionAsync();

        Assert.True(await conn.QuerySingleAsync<bool>("select ssl from pg_stat_ssl where pid = pg_backend_pid()"));
        Assert.Equal(SslMode.VerifyFull, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).SslMode);
    }

    [Fact]
    public async Task A_certificate_the_trusted_CA_did_not_sign_is_refused()
    {
        var extension = Extension();
        var env = Environment(server.OtherCaCertificatePath, $"secret-{Guid.NewGuid():N}", extension);

        var dataSource = await OpsDataSources.GetAsync(env);
        var e = await Assert.ThrowsAnyAsync<Exception>(async () => { await using var conn = await dataSource.OpenConnectionAsync(); });

        Assert.Contains("certificate", e.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_unix_socket_gets_no_TLS_as_libpq_ignores_sslmode_there()
    {
        var env = new LambdaEnvironment(_ => null);
        var builder = OpsDataSources.Secured(new NpgsqlConnectionStringBuilder { Host = "/run/postgresql" }, env);
        Assert.Equal(SslMode.Disable, builder.SslMode);
        Assert.Equal(SslMode.VerifyFull, OpsDataSources.Secured(new NpgsqlConnectionStringBuilder { Host = "proxy.example" }, env).SslMode);
    }
}
