using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Functions.Lambda;

/// <summary>
/// One <see cref="NpgsqlDataSource"/> per container (per database), built on first use: its pool
/// outlives invocations, and the secret is fetched once for the container's life. On AWS the
/// endpoint is RAPID_DB_HOST/PORT/NAME with the secret RAPID_DB_SECRET_ID, over TLS with the
/// server's certificate verified (chain and host name: RDS Proxy's certificates chain to Amazon's
/// roots in the runtime's trust store; RAPID_DB_ROOT_CERTIFICATE names another CA). A host that is a
/// unix socket directory (a local server) gets no TLS, as libpq ignores sslmode for sockets.
/// RAPID_DB (a full connection string) overrides all this for tests and embedded use.
/// </summary>
public static class OpsDataSources
{
    /// <summary>Connections per container: few, because every concurrent Lambda holds its own pool.</summary>
    public const int MaxPoolSize = 10;

    private static readonly ConcurrentDictionary<string, Lazy<Task<NpgsqlDataSource>>> Sources = new();

    public static async Task<NpgsqlDataSource> GetAsync(LambdaEnvironment env, CancellationToken ct = default)
    {
        string identity;
        Func<Task<NpgsqlDataSource>> build;
        if (env.ConnectionString is { } cs)
        {
            identity = cs;
            build = () => Task.FromResult(OpsDb.Create(cs));
        }
        else
        {
            var host = env.Require(LambdaEnvironment.DbHostVariable);
            var portText = env.Get(LambdaEnvironment.DbPortVariable) ?? "5432";
            if (!int.TryParse(portText, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
                throw new InvalidOperationException($"environment variable {LambdaEnvironment.DbPortVariable} = '{portText}' is not a TCP port");
            var database = env.Get(LambdaEnvironment.DbNameVariable) ?? "rapid";
            var secretId = env.Require(LambdaEnvironment.DbSecretIdVariable);
            identity = $"{host}:{port}/{database}#{secretId}";
            build = async () =>
            {
                var credentials = await DatabaseSecret.FromEnvironment(env).FetchAsync(secretId, ct);
                return OpsDb.Create(Secured(new NpgsqlConnectionStringBuilder
                {
                    Host = host, Port = port, Database = database,
                    Username = credentials.Username, Password = credentials.Password,
                    MaxPoolSize = MaxPoolSize,
                }, env).ConnectionString);
            };
        }

        var lazy = Sources.GetOrAdd(identity, _ => new Lazy<Task<NpgsqlDataSource>>(build));
        try
        {
            return await lazy.Value;
        }
        catch
        {
            // A failed build (extension not ready, bad secret) is not cached: the next invocation retries.
            Sources.TryRemove(new KeyValuePair<string, Lazy<Task<NpgsqlDataSource>>>(identity, lazy));
            throw;
        }
    }

    /// <summary>VerifyFull over TCP (Require would accept any certificate, a man in the middle's too); no TLS on a unix socket.</summary>
    internal static NpgsqlConnectionStringBuilder Secured(NpgsqlConnectionStringBuilder builder, LambdaEnvironment env)
    {
        if (builder.Host is { } host && host.StartsWith('/'))
        {
            builder.SslMode = SslMode.Disable;
            return builder;
        }
        builder.SslMode = SslMode.VerifyFull;
        if (env.Get(LambdaEnvironment.DbRootCertificateVariable) is { } rootCertificate)
        {
            if (!File.Exists(rootCertificate))
                throw new InvalidOperationException($"environment variable {LambdaEnvironment.DbRootCertificateVariable} = '{rootCertificate}' is not a file");
            builder.RootCertificate = rootCertificate;
        }
        return builder;
    }
}
