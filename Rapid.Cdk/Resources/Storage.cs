using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.S3;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// The buckets of Rapid.Core.Storage.Buckets: L2 data (new or imported), pipeline files (job
/// configs, job lists: intermediates that expire), products (versioned, so a reprocessing on the
/// same date that overwrites a product can be undone) and logs (expire). All block public access,
/// refuse plain HTTP and are encrypted (S3-managed keys, or one customer KMS key with bucket keys).
/// Every bucket of the stack records its server access logs in an access-logs bucket (S3-managed
/// keys, as log delivery requires; expires with the logs). Buckets are retained when the stack is
/// destroyed: products are the point of the system.
/// </summary>
public sealed class Storage : Construct
{
    public IBucket Data { get; }
    public Bucket PipelineFiles { get; }
    public Bucket Products { get; }
    public Bucket Logs { get; }
    /// <summary>S3 server access logs of the other buckets (none of its own: it would log itself).</summary>
    public Bucket AccessLogs { get; }
    public IKey? Key { get; }

    public Storage(Construct scope, string id, StorageSettings settings) : base(scope, id)
    {
        if (settings.UseKms)
            Key = new Key(this, "Key", new KeyProps
            {
                Description = "Rapid buckets", EnableKeyRotation = true, RemovalPolicy = RemovalPolicy.RETAIN,
            });

        AccessLogs = new Bucket(this, "AccessLogs", new BucketProps
        {
            Encryption = BucketEncryption.S3_MANAGED,
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            EnforceSSL = true,
            MinimumTLSVersion = 1.2,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            LifecycleRules =
            [
                new LifecycleRule { Id = "expire-access-logs", Expiration = Duration.Days(settings.LogRetentionDays) },
            ],
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        Logs = NewBucket("Logs", versioned: false,
        [
            new LifecycleRule
            {
                Id = "expire-logs",
                Expiration = Duration.Days(settings.LogRetentionDays),
                AbortIncompleteMultipartUploadAfter = Duration.Days(7),
            },
        ]);
        // Job configs and job lists expire; the settings profiles kept beside them (settings/NAME.json) must not. S3
        // lifecycle filters can only include, so the rules name the intermediates' keys: each begins with its
        // processing date (Rapid.Core.Storage.ObjectKeys), whose year begins with 1 or 2.
        PipelineFiles = NewBucket("PipelineFiles", versioned: false,
        [
            .. IntermediatePrefixes.Select(prefix => new LifecycleRule
            {
                Id = $"expire-intermediates-{prefix}",
                Prefix = prefix,
                Expiration = Duration.Days(settings.PipelineFilesRetentionDays),
            }),
            new LifecycleRule { Id = "abort-incomplete-uploads", AbortIncompleteMultipartUploadAfter = Duration.Days(7) },
        ]);
        Products = NewBucket("Products", versioned: true,
        [
            new LifecycleRule
            {
                Id = "expire-overwritten-products",
                NoncurrentVersionExpiration = Duration.Days(settings.ProductNoncurrentVersionDays),
                AbortIncompleteMultipartUploadAfter = Duration.Days(7),
            },
        ]);
        Data = settings.DataBucketName is { } name
            ? Bucket.FromBucketName(this, "ImportedData", name)
            : NewBucket("Data", versioned: true, []);
    }

    private Bucket NewBucket(string id, bool versioned, ILifecycleRule[] rules) => new(this, id, new BucketProps
    {
        Encryption = Key is null ? BucketEncryption.S3_MANAGED : BucketEncryption.KMS,
        EncryptionKey = Key,
        BucketKeyEnabled = Key is not null,
        BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
        EnforceSSL = true,
        MinimumTLSVersion = 1.2,
        ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
        Versioned = versioned,
        LifecycleRules = rules.Length > 0 ? rules : null,
        RemovalPolicy = RemovalPolicy.RETAIN,
        ServerAccessLogsBucket = AccessLogs,
        ServerAccessLogsPrefix = id + "/",
    });

    /// <summary>The key prefixes of the pipeline bucket's intermediates (their processing dates' first digit).</summary>
    public static readonly string[] IntermediatePrefixes = ["1", "2"];

    /// <summary>All bucket names in the environment form Rapid.Core.Storage.Buckets reads.</summary>
    public Dictionary<string, string> Environment() => new()
    {
        ["RAPID_DATA_BUCKET"] = Data.BucketName,
        ["RAPID_PIPELINE_BUCKET"] = PipelineFiles.BucketName,
        ["RAPID_PRODUCTS_BUCKET"] = Products.BucketName,
        ["RAPID_LOGS_BUCKET"] = Logs.BucketName,
    };

    /// <summary>
    /// Object-level access written out action by action (no <c>s3:GetObject*</c>-style wildcards). Deleting an object
    /// of a versioned bucket (products) leaves a delete marker: the version stays until the noncurrent-version expiry.
    /// </summary>
    /// <param name="keyPattern">The objects granted (an S3 ARN key pattern); all of the bucket's by default.</param>
    public void GrantObjects(IGrantable grantee, IBucket bucket, bool read, bool write, bool delete = false, string keyPattern = "*")
    {
        var actions = new List<string>();
        if (read) actions.Add("s3:GetObject");
        if (write) actions.Add("s3:PutObject");
        if (delete) actions.Add("s3:DeleteObject");
        grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = actions.ToArray(),
            Resources = [bucket.ArnForObjects(keyPattern)],
        }));
        if (read)
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Actions = ["s3:ListBucket"],
                Resources = [bucket.BucketArn],
            }));
        if (Key is not null)
        {
            var keyActions = new List<string>();
            if (read) keyActions.Add("kms:Decrypt");
            // Multipart uploads decrypt the data key too, so writers need Decrypt as well.
            if (write) keyActions.AddRange(["kms:Decrypt", "kms:GenerateDataKey"]);
            grantee.GrantPrincipal.AddToPrincipalPolicy(new PolicyStatement(new PolicyStatementProps
            {
                Actions = keyActions.Distinct().ToArray(),
                Resources = [Key.KeyArn],
            }));
        }
    }
}
