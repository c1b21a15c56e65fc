using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Constructs;
using Rapid.Cdk.Bundling;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// One Lambda per operations step, all on the managed <c>dotnet10</c> runtime and all from one
/// <c>dotnet publish</c> of Rapid.Functions. Handlers are Stream-in/Stream-out methods (no Lambda
/// serializer package is obtainable here), named <c>Rapid.Functions.Lambda.{Step}Handler::Handle</c>.
/// They run in the VPC next to the database and read its secret through the Parameters and
/// Secrets extension's local HTTP endpoint (no Secrets Manager SDK needed). Each has a role of its
/// own with inline statements only (its log group, the VPC network interfaces Lambda manages, X-Ray,
/// its secret, its buckets): no AWS-managed policy.
/// </summary>
public sealed class OperationsFunctions : Construct
{
    public const string Assembly = "Rapid.Functions";
    public const string HandlerNamespace = "Rapid.Functions.Lambda";

    public Function ResolveWindow { get; }
    public Function PlanReferences { get; }
    public Function PlanScience { get; }
    public Function PlanPostProc { get; }
    /// <summary>Plans the night's injection-recovery job (ppid 18), after post-processing is registered.</summary>
    public Function PlanNightRecovery { get; }
    public Function Register { get; }
    /// <summary>Registers manifests as they arrive (SQS batches); same code, its own concurrency.</summary>
    public Function RegisterStream { get; }
    public Function Summarize { get; }
    /// <summary>The retry state after each stage's registration: plans the next resubmission round of the stage's failed jobs.</summary>
    public Function PlanRetry { get; }
    /// <summary>The failure path: releases the night's run lease and ends its run as failed, before the execution fails.</summary>
    public Function ReleaseNight { get; }
    /// <summary>Records Batch's job state-change events (EventBridge → SQS, see <see cref="BatchStateEvents"/>).</summary>
    public Function RecordBatchEvents { get; }
    /// <summary>
    /// Registers L2 files as they land in the data bucket (S3 → SQS, see <see cref="PromptIngest"/>) from their headers
    /// (ranged GETs) and starts each one's prompt execution.
    /// </summary>
    public Function Ingest { get; }
    /// <summary>
    /// Closes what an execution that timed out, was stopped or failed left open: its run, its date's lease, its open jobs,
    /// its submissions (Step Functions status changes → EventBridge → SQS, see <see cref="EndedExecutions"/>).
    /// </summary>
    public Function CloseExecution { get; }
    /// <summary>The job API's <c>POST /api/v1/jobs</c> (see <see cref="JobApi"/>): records a submission and starts its execution.</summary>
    public Function SubmitJob { get; }
    /// <summary>The job API's reads, <c>GET /api/v1/jobs/{id}</c> and <c>GET /api/v1/nights/{procdate}</c> (see <see cref="JobApi"/>).</summary>
    public Function ReadJobs { get; }
    /// <summary>
    /// The schema migration's custom-resource handler (see <see cref="SchemaMigration"/>): runs at
    /// deploy time, not in a night, so it is not one of <see cref="All"/>. It needs only the
    /// database secret; it reaches CloudFormation's pre-signed response URL (S3, HTTPS) through
    /// the S3 gateway endpoint or the NAT.
    /// </summary>
    public Function Migrate { get; }

    /// <summary>The functions of the nightly workflow and of the queues (streaming registration, Batch state changes).</summary>
    public IReadOnlyList<Function> All { get; }

    /// <summary>The functions the state machine invokes.</summary>
    public IReadOnlyList<Function> Workflow { get; }

    /// <summary>The functions that read SQS queues.</summary>
    public IReadOnlyList<Function> Streams { get; }

    /// <summary>The functions behind the job API (<see cref="JobApi"/>).</summary>
    public IReadOnlyList<Function> Api { get; }

    public OperationsFunctions(
        Construct scope, string id, RapidSettings settings, Network network, Storage storage, OpsDatabase database, SourceRevision revision)
        : base(scope, id)
    {
        var code = FunctionsCode(settings.Functions);
        var secretsLayer = settings.Functions.ParamsAndSecretsLayerArn is { } arn
            ? ParamsAndSecretsLayerVersion.FromVersionArn(arn, SecretsOptions())
            : ParamsAndSecretsLayerVersion.FromVersion(ParamsAndSecretsVersions.V1_0_103, SecretsOptions());
        var databaseEnvironment = database.OperationsEnvironment();
        var common = storage.Environment();
        common["RAPID_TIME_ZONE"] = settings.TimeZone;
        common["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"] = "2773";
        common[SourceRevision.EnvironmentVariable] = revision.Value;
        // Read by Rapid.Functions.Lambda.LambdaEnvironment.Planning.
        common["RAPID_REFERENCE_GRID"] = settings.Functions.ReferenceGridPixels.ToString(System.Globalization.CultureInfo.InvariantCulture);
        common["RAPID_FAKE_SOURCES"] = settings.Functions.FakeSourcesPerImage.ToString(System.Globalization.CultureInfo.InvariantCulture);
        common["RAPID_MAX_ARRAY_SIZE"] = settings.Batch.MaxArraySize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Read by Rapid.Functions.Lambda.LambdaEnvironment.RunLeaseDuration: an execution holds its date's lease at most as
        // long as the state machine lets it run, so a lease can only expire under an execution that has already ended.
        common["RAPID_RUN_LEASE_HOURS"] = Rapid.Cdk.Workflow.NightlyWorkflow.ExecutionTimeoutHours(settings.Batch).ToString(System.Globalization.CultureInfo.InvariantCulture);

        Function Step(string name, int timeoutMinutes, int memoryMiB = 1024, Dictionary<string, string>? databaseVariables = null)
        {
            var logs = new LogGroup(this, name + "Logs", new LogGroupProps
            {
                Retention = BatchCompute.RetentionFor(settings.Storage.LogRetentionDays),
                RemovalPolicy = RemovalPolicy.DESTROY,
            });
            var environment = new Dictionary<string, string>(common);
            foreach (var (key, value) in databaseVariables ?? databaseEnvironment) environment[key] = value;
            return new Function(this, name, new FunctionProps
            {
                Runtime = Runtime.DOTNET_10,
                Architecture = Architecture.X86_64,
                Code = code,
                Handler = $"{Assembly}::{HandlerNamespace}.{name}Handler::Handle",
                Description = $"Rapid operations step {name}",
                MemorySize = memoryMiB,
                Timeout = Duration.Minutes(timeoutMinutes),
                Environment = environment,
                Role = ExecutionRole(name, logs),
                Vpc = network.Vpc,
                VpcSubnets = network.ComputeSubnets,
                SecurityGroups = [database.ClientSecurityGroup],
                ParamsAndSecrets = secretsLayer,
                LogGroup = logs,
                Tracing = Tracing.ACTIVE,
            });
        }

        ResolveWindow = Step("ResolveWindow", 1, 512);
        PlanReferences = Step("PlanReferences", 10);
        PlanScience = Step("PlanScience", 10);
        PlanPostProc = Step("PlanPostProc", 10);
        PlanNightRecovery = Step("PlanNightRecovery", 5);
        Register = Step("Register", 15, 2048);
        RegisterStream = Step("RegisterStream", 2);
        Summarize = Step("Summarize", 5);
        PlanRetry = Step("PlanRetry", 5);
        ReleaseNight = Step("ReleaseNight", 1, 512);
        RecordBatchEvents = Step("RecordBatchEvents", 1, 512);
        // The checksum streams the whole file (a 4088² image is 67 MB): minutes of slack, memory for network throughput.
        Ingest = Step("Ingest", 5, 1024);
        // Registers the open jobs' manifests like Register, so the same time and memory.
        CloseExecution = Step("CloseExecution", 15, 2048);
        SubmitJob = Step("SubmitJob", 1, 512);
        ReadJobs = Step("ReadJobs", 1, 512);
        Api = [SubmitJob, ReadJobs];
        Workflow = [ResolveWindow, PlanReferences, PlanScience, PlanPostProc, PlanNightRecovery, Register, PlanRetry, Summarize, ReleaseNight];
        Streams = [RegisterStream, RecordBatchEvents, Ingest, CloseExecution];
        All = [.. Workflow, .. Streams];
        Migrate = Step("Migrate", 5, 512, database.MigrationEnvironment());

        foreach (var function in All.Concat(Api))
            database.GrantOperationsSecretRead(function);
        database.GrantMigrationSecretsRead(Migrate);
        // Plans read L2 metadata from the database and write job configs and job lists; they give the jobs the
        // settings of the profile the stack names (read by Rapid.Functions.Lambda.LambdaEnvironment.PlanningAsync).
        // PlanRetry writes the job lists of its rounds (the jobs' configs are unchanged) and reads the stage's list.
        foreach (var plan in new[] { PlanReferences, PlanScience, PlanPostProc, PlanNightRecovery, PlanRetry })
        {
            if (settings.Functions.SettingsProfile is { } profile)
                plan.AddEnvironment(SettingsProfileVariable, ProfileUri(storage, profile));
            storage.GrantObjects(plan, storage.PipelineFiles, read: true, write: true);
            storage.GrantObjects(plan, storage.Products, read: true, write: false);
        }
        // Registration reads job lists, manifests and the jobs' logs (scanned for the QC record), and deletes the unstamped
        // products a registered post-processing job has superseded (Rapid.Functions.Steps.Registration.SupersededProducts);
        // it writes nothing. CloseExecution registers the open jobs of an ended execution's run the same way.
        foreach (var register in new[] { Register, RegisterStream, CloseExecution })
        {
            storage.GrantObjects(register, storage.PipelineFiles, read: true, write: false);
            storage.GrantObjects(register, storage.Products, read: true, write: false, delete: true);
            storage.GrantObjects(register, storage.Logs, read: true, write: false, keyPattern: JobLogKeyPattern);
        }
        // Ingest reads the L2 files (a HEAD, ranged GETs of the headers, one GET for the checksum) and writes nothing to S3.
        storage.GrantObjects(Ingest, storage.Data, read: true, write: false);
        // The job API's reads link the jobs' products, logs and night reports by presigned GET URLs, which carry the signer's
        // permissions (Rapid.Functions.Lambda.ObjectLinks): it may read those keys and no other (no intermediates, no L2
        // files), and writes nothing; it asks whether a night's report exists before it links it.
        storage.GrantObjects(ReadJobs, storage.Products, read: true, write: false, keyPattern: JobProductsKeyPattern);
        storage.GrantObjects(ReadJobs, storage.Products, read: true, write: false, keyPattern: NightReportKeyPattern);
        storage.GrantObjects(ReadJobs, storage.Logs, read: true, write: false, keyPattern: JobLogKeyPattern);
        // SubmitJob reads a diff's inputs (HEAD and ranged GETs of their headers) under the one prefix a diff may name, and
        // writes the diff's job config and job list (Rapid.Functions.Api.DiffOnAws); no other object.
        storage.GrantObjects(SubmitJob, storage.PipelineFiles, read: true, write: false, keyPattern: DiffInputsKeyPattern);
        storage.GrantObjects(SubmitJob, storage.PipelineFiles, read: false, write: true, keyPattern: JobConfigKeyPattern);
        storage.GrantObjects(SubmitJob, storage.PipelineFiles, read: false, write: true, keyPattern: DiffJobListKeyPattern);
        // A diff runs with the stack's settings profile, as the night's jobs do: SubmitJob reads that one object.
        if (settings.Functions.SettingsProfile is { } diffProfile)
        {
            SubmitJob.AddEnvironment(SettingsProfileVariable, ProfileUri(storage, diffProfile));
            storage.GrantObjects(SubmitJob, storage.PipelineFiles, read: true, write: false, keyPattern: SettingsProfileKey(diffProfile));
        }
        // Summarize writes the night report beside the night's products and nothing else; it reads the products (the
        // cutouts of the report) and the failed jobs' logs (their tails under each failure group).
        storage.GrantObjects(Summarize, storage.Products, read: true, write: false, keyPattern: JobProductsKeyPattern);
        storage.GrantObjects(Summarize, storage.Products, read: false, write: true, keyPattern: NightReportKeyPattern);
        storage.GrantObjects(Summarize, storage.Logs, read: true, write: false, keyPattern: JobLogKeyPattern);
        // vCPU-hours of the night in the report: the vCPUs each job definition reserves, per ppid (the night's recovery job,
        // ppid 18, runs on the post-processing definition).
        Summarize.AddEnvironment(JobVcpusVariable, JobVcpus(settings.Batch));
    }

    /// <summary>The objects a job API diff may read (Rapid.Functions.Api.DiffOnAws.InputPrefix, in the pipeline bucket).</summary>
    public const string DiffInputsKeyPattern = "diff-inputs/*";

    /// <summary>The keys of the jobs' configs (Rapid.Core.Storage.ObjectKeys.JobConfig: {procdate}/jid{jid}/job_config_jid{jid}.json).</summary>
    public const string JobConfigKeyPattern = "*/jid*/job_config_jid*.json";

    /// <summary>The keys of the diffs' job lists (ObjectKeys.JobList of ppid 15, plan "diff-sub{id}").</summary>
    public const string DiffJobListKeyPattern = "*/plans/ppid15_diff-sub*.json";

    /// <summary>The keys of the jobs' products (Rapid.Core.Storage.ObjectKeys.Product: {procdate}/jid{jid}/{file}).</summary>
    public const string JobProductsKeyPattern = "*/jid*/*";

    /// <summary>The keys of the jobs' logs (Rapid.Core.Storage.ObjectKeys.Log: {procdate}/rapid_pipeline_job_{procdate}_jid{jid}_log.txt).</summary>
    public const string JobLogKeyPattern = "*/rapid_pipeline_job_*_log.txt";

    /// <summary>The keys of the night reports (Rapid.Core.Storage.ObjectKeys.NightReport: {procdate}/rapid_night_report_{procdate}.html).</summary>
    public const string NightReportKeyPattern = "*/rapid_night_report_*.html";

    /// <summary>Rapid.Functions.Report.NightReportOptions.JobVcpusVariable.</summary>
    public const string JobVcpusVariable = "RAPID_JOB_VCPUS";

    /// <summary>"12=4,15=4,17=1,18=1" from the job definitions' vCPUs.</summary>
    public static string JobVcpus(BatchSettings batch) =>
        $"12={batch.Reference.Vcpus},15={batch.Science.Vcpus},17={batch.PostProcessing.Vcpus},18={batch.PostProcessing.Vcpus}";

    /// <summary>The variable that names the night's settings profile (an object URI) to the plan steps.</summary>
    public const string SettingsProfileVariable = "RAPID_SETTINGS_PROFILE";

    /// <summary>Where in the pipeline bucket the profile <paramref name="name"/> is kept.</summary>
    public static string SettingsProfileKey(string name) => $"settings/{name}.json";

    private static string ProfileUri(Storage storage, string name) => $"s3://{storage.PipelineFiles.BucketName}/{SettingsProfileKey(name)}";

    /// <summary>
    /// What the AWS-managed AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole would
    /// give, written out: the function's own log group, and the network interfaces Lambda creates in
    /// the VPC for it (those EC2 actions take no resource-level scope).
    /// </summary>
    private Role ExecutionRole(string name, LogGroup logs)
    {
        var role = new Role(this, name + "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("lambda.amazonaws.com"),
            Description = $"Rapid operations step {name}",
        });
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resources = [logs.LogGroupArn],
        }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = VpcNetworkInterfaceActions,
            Resources = ["*"],
        }));
        return role;
    }

    /// <summary>The EC2 actions Lambda performs with a VPC function's role (AWSLambdaVPCAccessExecutionRole's).</summary>
    public static readonly string[] VpcNetworkInterfaceActions =
    [
        "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    ];

    private static IParamsAndSecretsOptions SecretsOptions() => new ParamsAndSecretsOptions
    {
        CacheEnabled = true,
        HttpPort = 2773,
        LogLevel = ParamsAndSecretsLogLevel.WARN,
        SecretsManagerTtl = Duration.Minutes(5),
    };

    /// <summary>
    /// A prebuilt publish directory when given (fast, used by the tests and by CI that already
    /// published); otherwise <c>dotnet publish</c> at synth time through local bundling. The
    /// bundling image is never pulled: local bundling always succeeds or fails the synth.
    /// </summary>
    private static Code FunctionsCode(FunctionSettings settings)
    {
        if (settings.PublishDirectory is { } prebuilt)
        {
            if (!Directory.Exists(prebuilt))
                throw new DirectoryNotFoundException($"context 'rapid:functionsPublishDir' = '{prebuilt}' is not a directory");
            return Code.FromAsset(prebuilt);
        }
        var root = RepositoryRoot.Find();
        return Code.FromAsset(root, new Amazon.CDK.AWS.S3.Assets.AssetOptions
        {
            Exclude = RepositoryRoot.BuildExcludes.Concat(["Rapid.Cdk", "Rapid.Pipeline", "Rapid.Cli", "pipeline-image"]).ToArray(),
            Bundling = new BundlingOptions
            {
                Image = DockerImage.FromRegistry("mcr.microsoft.com/dotnet/sdk:10.0"),
                Local = new DotnetPublishBundling(root, Path.Combine("Rapid.Functions", "Rapid.Functions.csproj")),
                OutputType = BundlingOutput.NOT_ARCHIVED,
            },
        });
    }
}
