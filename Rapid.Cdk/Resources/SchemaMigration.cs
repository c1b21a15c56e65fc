using System.Security.Cryptography;
using System.Text;
using Amazon.CDK;
using Amazon.CDK.AWS.Lambda;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// Applies the ops database schema migrations on every deploy that brings new ones: a plain
/// CloudFormation custom resource whose service token is the Migrate Lambda
/// (<c>Rapid.Functions.Lambda.MigrateHandler</c>, which PUTs its own response to the pre-signed
/// URL, so no Provider framework). Its properties name the migrations embedded in Rapid.Functions,
/// read at synth time: a new or changed migration changes them, and CloudFormation sends an Update,
/// which runs the same <c>MigrationRunner</c> as the embedded mode. Delete leaves the schema and data.
/// </summary>
public sealed class SchemaMigration : Construct
{
    public const string ResourceType = "Custom::RapidOpsSchema";
    /// <summary>The migrations' folder, relative to the repository root (embedded by Rapid.Functions.csproj).</summary>
    public static readonly string MigrationsFolder = Path.Combine("Rapid.Functions", "OpsDatabase", "Migrations");

    public CustomResource Resource { get; }

    public SchemaMigration(Construct scope, string id, Function migrate, OpsDatabase database) : base(scope, id)
    {
        var migrations = MigrationFiles(Path.Combine(RepositoryRoot.Find(), MigrationsFolder));
        Resource = new CustomResource(this, "Resource", new CustomResourceProps
        {
            ResourceType = ResourceType,
            ServiceToken = migrate.FunctionArn,
            PascalCaseProperties = true,
            // A handler that dies before responding (e.g. its own 5-minute timeout) fails the deploy
            // after this, not after CloudFormation's default hour.
            ServiceTimeout = Duration.Minutes(10),
            Properties = new Dictionary<string, object>
            {
                ["LatestMigration"] = Path.GetFileName(migrations[^1]),
                ["MigrationsSha256"] = Fingerprint(migrations),
            },
        });
        // The server, the proxy and its target, and the ingress rules must exist before the first
        // connection; the function's environment alone only orders it after the proxy endpoint.
        Resource.Node.AddDependency(database);
    }

    /// <summary>The <c>V*.sql</c> files in version order (ordinal file-name order, as the runner sorts them).</summary>
    internal static IReadOnlyList<string> MigrationFiles(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"the migrations folder '{folder}' does not exist");
        var files = Directory.GetFiles(folder, "*.sql").OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new InvalidDataException($"the migrations folder '{folder}' holds no .sql file");
        return files;
    }

    /// <summary>SHA-256 (hex) over each file's name and content, so adding, renaming or editing a migration changes it.</summary>
    internal static string Fingerprint(IReadOnlyList<string> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\n"));
            sha.AppendData(File.ReadAllBytes(file));
            sha.AppendData([0]);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
