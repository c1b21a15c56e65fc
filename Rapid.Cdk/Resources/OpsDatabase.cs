using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.RDS;
using Amazon.CDK.AWS.SecretsManager;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// The operations database: a new RDS for PostgreSQL 15 instance in isolated subnets (encrypted,
/// TLS required, automated backups, deletion protection, a generated secret) behind an RDS Proxy
/// that pools the Lambdas' connections (thousands of streaming registrations would otherwise
/// exhaust max_connections); or an existing server imported by host, port, name and secret ARN.
/// </summary>
public sealed class OpsDatabase : Construct
{
    /// <summary>Where the Lambdas connect: the proxy endpoint, or the imported host.</summary>
    public string Host { get; }
    public int Port { get; }
    public string DatabaseName { get; }
    public ISecret Secret { get; }
    /// <summary>The security group the Lambdas run in; it is allowed in on the database port.</summary>
    public ISecurityGroup ClientSecurityGroup { get; }
    public DatabaseInstance? Instance { get; }
    public DatabaseProxy? Proxy { get; }

    public OpsDatabase(Construct scope, string id, DatabaseSettings settings, Network network) : base(scope, id)
    {
        Port = settings.Port;
        DatabaseName = settings.Name;
        ClientSecurityGroup = new SecurityGroup(this, "ClientSecurityGroup", new SecurityGroupProps
        {
            Vpc = network.Vpc,
            Description = "Rapid Lambdas (ops database clients)",
            AllowAllOutbound = true,
        });

        if (settings.IsImported)
        {
            Host = settings.ImportedHost!;
            Secret = Amazon.CDK.AWS.SecretsManager.Secret.FromSecretCompleteArn(this, "ImportedSecret",
                settings.ImportedSecretArn ?? throw new ArgumentException(
                    "context 'rapid:dbHost' needs 'rapid:dbSecretArn' (the full ARN of a secret with username and password)"));
            // The imported server's own security group is not ours to change unless named.
            if (settings.ImportedSecurityGroupId is { } groupId)
                SecurityGroup.FromSecurityGroupId(this, "ImportedSecurityGroup", groupId, new SecurityGroupImportOptions { Mutable = true })
                    .AddIngressRule(ClientSecurityGroup, Amazon.CDK.AWS.EC2.Port.Tcp(settings.Port), "Rapid Lambdas");
            return;
        }

        var instance = new DatabaseInstance(this, "Instance", new DatabaseInstanceProps
        {
            Engine = DatabaseInstanceEngine.Postgres(new PostgresInstanceEngineProps { Version = PostgresEngineVersion.VER_15 }),
            InstanceType = new Amazon.CDK.AWS.EC2.InstanceType(settings.InstanceType),
            Vpc = network.Vpc,
            VpcSubnets = network.DatabaseSubnets,
            Port = settings.Port,
            DatabaseName = settings.Name,
            Credentials = Credentials.FromGeneratedSecret("rapid"),
            StorageEncrypted = true,
            StorageType = StorageType.GP3,
            AllocatedStorage = settings.AllocatedStorageGiB,
            MaxAllocatedStorage = Math.Max(settings.AllocatedStorageGiB, settings.MaxAllocatedStorageGiB),
            MultiAz = settings.MultiAz,
            BackupRetention = Duration.Days(settings.BackupRetentionDays),
            DeleteAutomatedBackups = false,
            DeletionProtection = true,
            RemovalPolicy = RemovalPolicy.SNAPSHOT,
            AutoMinorVersionUpgrade = true,
            CloudwatchLogsExports = ["postgresql"],
            ParameterGroup = new ParameterGroup(this, "Parameters", new ParameterGroupProps
            {
                Engine = DatabaseInstanceEngine.Postgres(new PostgresInstanceEngineProps { Version = PostgresEngineVersion.VER_15 }),
                Parameters = new Dictionary<string, string> { ["rds.force_ssl"] = "1" },
            }),
        });
        Instance = instance;
        Secret = instance.Secret!;

        Proxy = instance.AddProxy("Proxy", new DatabaseProxyOptions
        {
            Vpc = network.Vpc,
            VpcSubnets = network.ComputeSubnets,
            Secrets = [Secret],
            RequireTLS = true,
            SecurityGroups =
            [
                new SecurityGroup(this, "ProxySecurityGroup", new SecurityGroupProps
                {
                    Vpc = network.Vpc, Description = "Rapid RDS Proxy", AllowAllOutbound = true,
                }),
            ],
        });
        Proxy.Connections.AllowFrom(ClientSecurityGroup, Amazon.CDK.AWS.EC2.Port.Tcp(settings.Port), "Rapid Lambdas to the proxy");
        instance.Connections.AllowFrom(Proxy, Amazon.CDK.AWS.EC2.Port.Tcp(settings.Port), "RDS Proxy to the database");
        Host = Proxy.Endpoint;
    }

    /// <summary>The database settings in the environment the Functions read (secret fetched through the extension).</summary>
    public Dictionary<string, string> Environment() => new()
    {
        ["RAPID_DB_HOST"] = Host,
        ["RAPID_DB_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RAPID_DB_NAME"] = DatabaseName,
        ["RAPID_DB_SECRET_ID"] = Secret.SecretArn,
    };

    public void GrantSecretRead(IGrantable grantee) => Secret.GrantRead(grantee);
}
