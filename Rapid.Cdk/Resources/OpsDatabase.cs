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
/// TLS required, automated backups, deletion protection) behind an RDS Proxy that pools the
/// Lambdas' connections (thousands of streaming registrations would otherwise exhaust
/// max_connections); or an existing server imported by host, port, name and secret ARN.
/// Two secrets: the master user's (generated, or the imported one), used only by the schema
/// migration; and the operations role's (<c>rapid_ops</c>, generated here), which every other
/// function connects with. The migrations create the role with DML rights only; the migration
/// function gives it LOGIN with its secret's password. Both new secrets rotate (single user).
/// </summary>
public sealed class OpsDatabase : Construct
{
    /// <summary>The role of the operations steps (Rapid.Functions.OpsDatabase.OpsRoles.Operations).</summary>
    public const string OperationsUser = "rapid_ops";
    public const string MasterUser = "rapid";

    /// <summary>Where the Lambdas connect: the proxy endpoint, or the imported host.</summary>
    public string Host { get; }
    public int Port { get; }
    public string DatabaseName { get; }
    /// <summary>The master user's secret: the schema migration's only.</summary>
    public ISecret MasterSecret { get; }
    /// <summary>The operations role's secret: every other function's.</summary>
    public ISecret OperationsSecret { get; }
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
            MasterSecret = Amazon.CDK.AWS.SecretsManager.Secret.FromSecretCompleteArn(this, "ImportedSecret",
                settings.ImportedSecretArn ?? throw new ArgumentException(
                    "context 'rapid:dbHost' needs 'rapid:dbSecretArn' (the full ARN of a secret with username and password)"));
            // Rotating it needs a rotation function that reaches a server this stack does not know: not set up here.
            OperationsSecret = new Amazon.CDK.AWS.SecretsManager.Secret(this, "OperationsSecret", new SecretProps
            {
                Description = $"Rapid ops database: the {OperationsUser} role of {settings.ImportedHost}",
                GenerateSecretString = OperationsPassword(),
            });
            // The imported server's own security group is not ours to change unless named.
            if (settings.ImportedSecurityGroupId is { } groupId)
                SecurityGroup.FromSecurityGroupId(this, "ImportedSecurityGroup", groupId, new SecurityGroupImportOptions { Mutable = true })
                    .AddIngressRule(ClientSecurityGroup, Amazon.CDK.AWS.EC2.Port.Tcp(settings.Port), "Rapid Lambdas");
            return;
        }

        var engine = DatabaseInstanceEngine.Postgres(new PostgresInstanceEngineProps { Version = PostgresEngineVersion.VER_15 });
        var instance = new DatabaseInstance(this, "Instance", new DatabaseInstanceProps
        {
            Engine = engine,
            InstanceType = new Amazon.CDK.AWS.EC2.InstanceType(settings.InstanceType),
            Vpc = network.Vpc,
            VpcSubnets = network.DatabaseSubnets,
            Port = settings.Port,
            DatabaseName = settings.Name,
            Credentials = Credentials.FromGeneratedSecret(MasterUser),
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
                Engine = engine,
                Parameters = new Dictionary<string, string> { ["rds.force_ssl"] = "1" },
            }),
        });
        Instance = instance;
        MasterSecret = instance.Secret!;
        // Single-user rotation: the secret needs no master ARN (multi-user rotation would).
        var operations = new DatabaseSecret(this, "OperationsSecret", new DatabaseSecretProps
        {
            Username = OperationsUser,
            ExcludeCharacters = " %+~`#$&*()|[]{}:;<>?!'/@\"\\",
        });
        // Host, port and engine in the secret: what the rotation function needs to reach the server.
        OperationsSecret = operations.Attach(instance);

        // Single-user rotation every 30 days: each user changes its own password (the rotation
        // functions reach the instance directly, which CDK allows them to).
        instance.AddRotationSingleUser(new RotationSingleUserOptions { AutomaticallyAfter = Duration.Days(30) });
        new SecretRotation(this, "OperationsSecretRotation", new SecretRotationProps
        {
            Application = SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
            Secret = OperationsSecret,
            Target = instance,
            Vpc = network.Vpc,
            VpcSubnets = network.ComputeSubnets,
            AutomaticallyAfter = Duration.Days(30),
        });

        // The proxy authenticates both users with their secrets (so both reach the server only
        // through it, with TLS that a certificate of Amazon's roots protects).
        Proxy = instance.AddProxy("Proxy", new DatabaseProxyOptions
        {
            Vpc = network.Vpc,
            VpcSubnets = network.ComputeSubnets,
            Secrets = [MasterSecret, OperationsSecret],
            RequireTLS = true,
            SecurityGroups =
            [
                new SecurityGroup(this, "ProxySecurityGroup", new SecurityGroupProps
                {
                    Vpc = network.Vpc, Description = "Rapid RDS Proxy", AllowAllOutbound = true,
                }),
            ],
        });
        // AddProxy itself lets the proxy into the instance: no second rule for the same port.
        Proxy.Connections.AllowFrom(ClientSecurityGroup, Amazon.CDK.AWS.EC2.Port.Tcp(settings.Port), "Rapid Lambdas to the proxy");
        Host = Proxy.Endpoint;
    }

    private static SecretStringGenerator OperationsPassword() => new()
    {
        SecretStringTemplate = $"{{\"username\":\"{OperationsUser}\"}}",
        GenerateStringKey = "password",
        ExcludeCharacters = " %+~`#$&*()|[]{}:;<>?!'/@\"\\",
        PasswordLength = 30,
    };

    /// <summary>The endpoint in the environment the Functions read, with the secret they connect with.</summary>
    public Dictionary<string, string> Environment(ISecret secret) => new()
    {
        ["RAPID_DB_HOST"] = Host,
        ["RAPID_DB_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RAPID_DB_NAME"] = DatabaseName,
        ["RAPID_DB_SECRET_ID"] = secret.SecretArn,
    };

    /// <summary>Every function but the migration: the operations role only.</summary>
    public Dictionary<string, string> OperationsEnvironment() => Environment(OperationsSecret);

    /// <summary>The migration: the master user, and the operations role's secret, whose password it sets.</summary>
    public Dictionary<string, string> MigrationEnvironment()
    {
        var environment = Environment(MasterSecret);
        environment["RAPID_DB_OPS_SECRET_ID"] = OperationsSecret.SecretArn;
        return environment;
    }

    public void GrantOperationsSecretRead(IGrantable grantee) => OperationsSecret.GrantRead(grantee);

    public void GrantMigrationSecretsRead(IGrantable grantee)
    {
        MasterSecret.GrantRead(grantee);
        OperationsSecret.GrantRead(grantee);
    }
}
