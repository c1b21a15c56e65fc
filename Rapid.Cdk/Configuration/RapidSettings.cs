using Constructs;

namespace Rapid.Cdk.Configuration;

/// <summary>
/// Every deploy-time setting, read once from CDK context (cdk.json or <c>-c key=value</c>).
/// Defaults are the values documented in the README; keys are <c>rapid:</c>-prefixed.
/// </summary>
public sealed record RapidSettings
{
    public required string TimeZone { get; init; }
    public required NetworkSettings Network { get; init; }
    public required StorageSettings Storage { get; init; }
    public required DatabaseSettings Database { get; init; }
    public required BatchSettings Batch { get; init; }
    public required FunctionSettings Functions { get; init; }
    public required ScheduleSettings Schedule { get; init; }
    public required MonitoringSettings Monitoring { get; init; }
    public required PromptSettings Prompt { get; init; }
    /// <summary>The commit to record (<c>rapid:sourceRevision</c>); unset: the repository's HEAD (see <see cref="SourceRevision"/>).</summary>
    public string? SourceRevision { get; init; }

    public static RapidSettings FromContext(Node node)
    {
        var c = new ContextReader(node);
        var timeZone = c.String("rapid:timeZone", "America/Los_Angeles");
        var maxVcpus = c.Int("rapid:maxVcpus", 256, 1, 100_000);
        return new RapidSettings
        {
            TimeZone = timeZone,
            SourceRevision = c.OptionalString("rapid:sourceRevision"),
            Network = new NetworkSettings(
                VpcId: c.OptionalString("rapid:vpcId"),
                AvailabilityZones: c.List("rapid:vpcAvailabilityZones"),
                PrivateSubnetIds: c.List("rapid:vpcPrivateSubnetIds"),
                IsolatedSubnetIds: c.List("rapid:vpcIsolatedSubnetIds"),
                MaxAzs: c.Int("rapid:maxAzs", 2, 1, 6),
                NatGateways: c.Int("rapid:natGateways", 1, 0, 6)),
            Storage = new StorageSettings(
                DataBucketName: c.OptionalString("rapid:dataBucketName"),
                UseKms: ParseEncryption(c.String("rapid:bucketEncryption", "s3")),
                LogRetentionDays: c.Int("rapid:logRetentionDays", 180, 1),
                PipelineFilesRetentionDays: c.Int("rapid:pipelineFilesRetentionDays", 60, 1),
                ProductNoncurrentVersionDays: c.Int("rapid:productNoncurrentVersionDays", 30, 1),
                ManifestPrefix: c.String("rapid:manifestPrefix", ""),
                ManifestSuffix: c.String("rapid:manifestSuffix", ".json")),
            Database = new DatabaseSettings(
                ImportedHost: c.OptionalString("rapid:dbHost"),
                Port: c.Int("rapid:dbPort", 5432, 1, 65535),
                Name: c.String("rapid:dbName", "rapid"),
                ImportedSecretArn: c.OptionalString("rapid:dbSecretArn"),
                ImportedSecurityGroupId: c.OptionalString("rapid:dbSecurityGroupId"),
                InstanceType: c.String("rapid:dbInstanceType", "m6g.large"),
                AllocatedStorageGiB: c.Int("rapid:dbAllocatedStorageGiB", 200, 20, 65536),
                MaxAllocatedStorageGiB: c.Int("rapid:dbMaxAllocatedStorageGiB", 1000, 20, 65536),
                BackupRetentionDays: c.Int("rapid:dbBackupRetentionDays", 14, 1, 35),
                MultiAz: c.Bool("rapid:dbMultiAz", false)),
            Batch = new BatchSettings(
                MaxVcpus: maxVcpus,
                UseSpot: c.Bool("rapid:useSpot", true),
                OnDemandMaxVcpus: c.Int("rapid:onDemandMaxVcpus", maxVcpus, 1, 100_000),
                InstanceRootVolumeGiB: c.Int("rapid:instanceRootVolumeGiB", 100, 30, 16384),
                JobAttempts: c.Int("rapid:jobAttempts", 3, 1, 10),
                Reference: new JobResources(
                    c.Int("rapid:referenceVcpus", 4, 1, 192), c.Int("rapid:referenceMemoryMiB", JobResources.ReferenceMemoryMiB, 512),
                    c.Int("rapid:referenceTimeoutMinutes", 180, 1)),
                Science: new JobResources(
                    c.Int("rapid:scienceVcpus", 4, 1, 192), c.Int("rapid:scienceMemoryMiB", JobResources.ScienceMemoryMiB, 512),
                    c.Int("rapid:scienceTimeoutMinutes", 120, 1)),
                PostProcessing: new JobResources(
                    c.Int("rapid:postProcVcpus", 1, 1, 192), c.Int("rapid:postProcMemoryMiB", JobResources.PostProcessingMemoryMiB, 512),
                    c.Int("rapid:postProcTimeoutMinutes", 30, 1)),
                StageTimeoutHours: c.Int("rapid:batchStageTimeoutHours", 12, 1, 24 * 7),
                ChunkConcurrency: c.Int("rapid:chunkConcurrency", 4, 1, 40),
                MaxArraySize: c.Int("rapid:maxArraySize", BatchSettings.BatchArrayLimit, 2, BatchSettings.BatchArrayLimit)),
            Functions = new FunctionSettings(
                PublishDirectory: c.OptionalString("rapid:functionsPublishDir"),
                ParamsAndSecretsLayerArn: c.OptionalString("rapid:paramsAndSecretsLayerArn"),
                StreamConcurrency: c.Int("rapid:streamRegistrationConcurrency", 5, 2, 1000),
                ReferenceGridPixels: c.Int("rapid:referenceGridPixels", 7000, 64, 100_000),
                FakeSourcesPerImage: c.Int("rapid:fakeSourcesPerImage", 50, 0, 100_000),
                SettingsProfile: ProfileName(c.OptionalString("rapid:settingsProfile"))),
            Schedule = new ScheduleSettings(
                Enabled: c.Bool("rapid:scheduleEnabled", true),
                Cron: c.String("rapid:scheduleCron", "cron(30 8 * * ? *)"),
                TimeZone: c.String("rapid:scheduleTimeZone", timeZone)),
            Monitoring = new MonitoringSettings(
                AlarmEmail: c.OptionalString("rapid:alarmEmail"),
                FailedJobsThreshold: c.Int("rapid:failedJobsAlarmThreshold", 10, 1)),
            Prompt = new PromptSettings(
                Enabled: c.Bool("rapid:promptProcessing", true),
                KeyPrefix: c.String("rapid:l2KeyPrefix", ""),
                IngestConcurrency: c.Int("rapid:promptIngestConcurrency", 5, 2, 1000)),
        };
    }

    /// <summary>A profile name is the key of its file (settings/NAME.json in the pipeline bucket): letters, digits, '.', '_', '-'.</summary>
    private static string? ProfileName(string? name) =>
        name is null || System.Text.RegularExpressions.Regex.IsMatch(name, "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$") ? name
        : throw new ArgumentException($"context 'rapid:settingsProfile' = '{name}' is not a profile name (letters, digits, '.', '_', '-'; the file is settings/NAME.json in the pipeline bucket)");

    private static bool ParseEncryption(string value) => value.ToLowerInvariant() switch
    {
        "s3" => false,
        "kms" => true,
        _ => throw new ArgumentException($"context 'rapid:bucketEncryption' = '{value}' is not 's3' or 'kms'"),
    };
}

/// <summary>A new VPC unless <see cref="VpcId"/> is set; an imported VPC needs its AZs and subnet ids (no lookup, so synth stays offline).</summary>
public sealed record NetworkSettings(
    string? VpcId, IReadOnlyList<string> AvailabilityZones, IReadOnlyList<string> PrivateSubnetIds,
    IReadOnlyList<string> IsolatedSubnetIds, int MaxAzs, int NatGateways)
{
    public bool IsImported => VpcId is not null;
}

public sealed record StorageSettings(
    string? DataBucketName, bool UseKms, int LogRetentionDays, int PipelineFilesRetentionDays,
    int ProductNoncurrentVersionDays, string ManifestPrefix, string ManifestSuffix);

/// <summary>A new RDS instance unless <see cref="ImportedHost"/> is set (then the secret ARN is required).</summary>
public sealed record DatabaseSettings(
    string? ImportedHost, int Port, string Name, string? ImportedSecretArn, string? ImportedSecurityGroupId,
    string InstanceType, int AllocatedStorageGiB, int MaxAllocatedStorageGiB, int BackupRetentionDays, bool MultiAz)
{
    public bool IsImported => ImportedHost is not null;
}

/// <summary>
/// vCPUs, memory (MiB) and the per-attempt timeout (minutes) of one job definition. The default
/// memory requests are the measured peaks of <c>rapid bench science --tile-grid 7000</c> (4088x4088,
/// as the nightly jobs run) with headroom, well under the memory of an instance with the job's vCPUs
/// (Batch reserves part of every instance's memory, so a request of the whole 8 or 16 GiB would
/// send the job to an instance twice as large):
/// <list type="bullet">
/// <item>science: 3.35 GB against an existing reference;</item>
/// <item>reference: 3.72 GB co-adding 9 inputs onto a 7000x7000 tile (about 0.2 GB more per input:
/// up to ~7 GB at the 25 inputs PipelineSettings allows);</item>
/// <item>post-processing: header stamping and the night's recovery tables, well under 1 GB.</item>
/// </list>
/// </summary>
public sealed record JobResources(int Vcpus, int MemoryMiB, int TimeoutMinutes)
{
    public const int ScienceMemoryMiB = 5120;
    public const int ReferenceMemoryMiB = 7168;
    public const int PostProcessingMemoryMiB = 2048;
}

/// <summary>
/// <see cref="MaxArraySize"/>: the most jobs one array job of a stage holds; above it the plan is
/// chunked and the stage runs a Map over the chunks. AWS Batch's own limit unless set lower (tests
/// set it lower so that the Map is taken on a small night).
/// </summary>
public sealed record BatchSettings(
    int MaxVcpus, bool UseSpot, int OnDemandMaxVcpus, int InstanceRootVolumeGiB, int JobAttempts,
    JobResources Reference, JobResources Science, JobResources PostProcessing, int StageTimeoutHours, int ChunkConcurrency,
    int MaxArraySize)
{
    /// <summary>AWS Batch's limit on the children of one array job.</summary>
    public const int BatchArrayLimit = 10_000;
}

/// <summary>
/// <see cref="PublishDirectory"/>: a prebuilt <c>dotnet publish</c> of Rapid.Functions; when absent synth publishes it.
/// <see cref="ReferenceGridPixels"/>: side of the square tile grid the plans give reference images (0.11"/px).
/// <see cref="FakeSourcesPerImage"/>: fake point sources each science job injects to measure completeness (0: none).
/// <see cref="SettingsProfile"/>: the settings profile the night's plans give their jobs (the object settings/NAME.json
/// of the pipeline bucket); null: the pipeline's defaults.
/// </summary>
public sealed record FunctionSettings(
    string? PublishDirectory, string? ParamsAndSecretsLayerArn, int StreamConcurrency, int ReferenceGridPixels, int FakeSourcesPerImage,
    string? SettingsProfile);

public sealed record ScheduleSettings(bool Enabled, string Cron, string TimeZone);

public sealed record MonitoringSettings(string? AlarmEmail, int FailedJobsThreshold);

/// <summary>
/// Prompt processing: an L2 file created in the data bucket under <see cref="KeyPrefix"/> (with a FITS suffix) is ingested by
/// the Ingest λ (at most <see cref="IngestConcurrency"/> at once) and starts its execution of {stack}-prompt. Disabled:
/// L2 files are still ingested as they arrive, and processed by the nightly run.
/// </summary>
public sealed record PromptSettings(bool Enabled, string KeyPrefix, int IngestConcurrency)
{
    /// <summary>The key suffixes that trigger ingest (S3 notification filters cannot overlap: one per suffix).</summary>
    public static readonly string[] FitsSuffixes = [".fits", ".fits.gz", ".fit", ".fts"];
}
