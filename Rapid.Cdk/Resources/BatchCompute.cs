using Amazon.CDK;
using Amazon.CDK.AWS.Batch;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.Ecr.Assets;
using Amazon.CDK.AWS.ECS;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Logs;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// AWS Batch: managed EC2 compute environments (spot first, on-demand behind it), one job queue,
/// and a job definition per pipeline (ppid 12 reference, 15 science, 17 post-processing) running
/// the image built from pipeline-image/Dockerfile. The image is a DockerImageAsset, so it is built
/// and pushed by <c>cdk deploy</c>; synth only fingerprints the sources and needs no Docker.
/// </summary>
public sealed class BatchCompute : Construct
{
    public JobQueue Queue { get; }
    public EcsJobDefinition ReferenceJob { get; }
    public EcsJobDefinition ScienceJob { get; }
    public EcsJobDefinition PostProcessingJob { get; }
    public LogGroup JobLogs { get; }
    /// <summary>The role the pipeline container runs as (object-store access only; jobs never touch the database).</summary>
    public Role JobRole { get; }

    public BatchCompute(Construct scope, string id, BatchSettings settings, Network network, Storage storage, int logRetentionDays,
        SourceRevision revision)
        : base(scope, id)
    {
        var hostSecurityGroup = new SecurityGroup(this, "HostSecurityGroup", new SecurityGroupProps
        {
            Vpc = network.Vpc, Description = "Rapid Batch hosts (outbound only)", AllowAllOutbound = true,
        });
        // Batch on EC2 has no per-job ephemeral storage setting (that is Fargate's): a job's scratch
        // space is the host's root volume, sized here for a few concurrent 4088x4088 co-adds.
        var launchTemplate = new LaunchTemplate(this, "HostLaunchTemplate", new LaunchTemplateProps
        {
            BlockDevices =
            [
                new BlockDevice
                {
                    DeviceName = "/dev/xvda",
                    Volume = BlockDeviceVolume.Ebs(settings.InstanceRootVolumeGiB, new EbsDeviceOptions
                    {
                        VolumeType = EbsDeviceVolumeType.GP3, Encrypted = true, DeleteOnTermination = true,
                    }),
                },
            ],
            RequireImdsv2 = true,
            // A container on the Docker bridge is one hop further from the instance metadata service
            // than the host: with the default limit of 1 its IMDSv2 token never arrives.
            HttpPutResponseHopLimit = 2,
        });

        var environments = new List<IOrderedComputeEnvironment>();
        if (settings.UseSpot)
            environments.Add(new OrderedComputeEnvironment
            {
                Order = 1,
                ComputeEnvironment = ComputeEnvironment("Spot", spot: true, settings.MaxVcpus, network, hostSecurityGroup, launchTemplate),
            });
        environments.Add(new OrderedComputeEnvironment
        {
            Order = environments.Count + 1,
            ComputeEnvironment = ComputeEnvironment("OnDemand", spot: false, settings.OnDemandMaxVcpus, network, hostSecurityGroup, launchTemplate),
        });
        Queue = new JobQueue(this, "Queue", new JobQueueProps { ComputeEnvironments = environments.ToArray(), Priority = 1 });

        JobLogs = new LogGroup(this, "JobLogs", new LogGroupProps
        {
            Retention = RetentionFor(logRetentionDays),
            RemovalPolicy = RemovalPolicy.RETAIN,
        });
        JobRole = new Role(this, "JobRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("ecs-tasks.amazonaws.com"),
            Description = "Rapid pipeline container: reads inputs and configs, writes products and logs",
        });
        storage.GrantObjects(JobRole, storage.Data, read: true, write: false);
        storage.GrantObjects(JobRole, storage.PipelineFiles, read: true, write: false);
        storage.GrantObjects(JobRole, storage.Products, read: true, write: true);
        storage.GrantObjects(JobRole, storage.Logs, read: false, write: true);

        var image = new DockerImageAsset(this, "PipelineImage", new DockerImageAssetProps
        {
            Directory = RepositoryRoot.Find(),
            File = "pipeline-image/Dockerfile",
            Exclude = RepositoryRoot.PipelineImageExcludes,
            Platform = Platform_.LINUX_AMD64,
            // The build context has no .git: the commit travels as a build argument into the version.
            BuildArgs = new Dictionary<string, string> { [SourceRevision.BuildArgument] = revision.Value },
        });
        var containerImage = ContainerImage.FromDockerImageAsset(image);

        ReferenceJob = JobDefinition("Reference", 12, settings.Reference, settings.JobAttempts, containerImage, storage);
        ScienceJob = JobDefinition("Science", 15, settings.Science, settings.JobAttempts, containerImage, storage);
        PostProcessingJob = JobDefinition("PostProcessing", 17, settings.PostProcessing, settings.JobAttempts, containerImage, storage);
    }

    private ManagedEc2EcsComputeEnvironment ComputeEnvironment(
        string id, bool spot, int maxVcpus, Network network, ISecurityGroup securityGroup, LaunchTemplate launchTemplate) =>
        new(this, id, new ManagedEc2EcsComputeEnvironmentProps
        {
            Vpc = network.Vpc,
            VpcSubnets = network.ComputeSubnets,
            SecurityGroups = [securityGroup],
            Spot = spot,
            AllocationStrategy = spot ? AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED : AllocationStrategy.BEST_FIT_PROGRESSIVE,
            MinvCpus = 0,
            MaxvCpus = maxVcpus,
            UseOptimalInstanceClasses = true,
            LaunchTemplate = launchTemplate,
            UpdateToLatestImageVersion = true,
        });

    /// <summary>
    /// One pipeline's job definition. The retry strategy retries only failures of the host, never
    /// of the job: the original lost 115 jobs to "Timeout waiting for network interface
    /// provisioning" before it had retries, while a pipeline error (exit 64+) is deterministic and
    /// retrying it only wastes an instance.
    /// </summary>
    private EcsJobDefinition JobDefinition(
        string id, int ppid, JobResources resources, int attempts, ContainerImage image, Storage storage)
    {
        // RAPID_JOB_LIST is set per submission by the state machine; the buckets and the region are
        // fixed here. The S3 client needs a region, and a container reaches no other source of one
        // reliably (Batch sets none, and the instance metadata service may be out of its reach).
        var environment = storage.Environment();
        environment["AWS_REGION"] = Aws.REGION;
        environment["AWS_DEFAULT_REGION"] = Aws.REGION;
        return new EcsJobDefinition(this, id + "Job", new EcsJobDefinitionProps
        {
            Container = new EcsEc2ContainerDefinition(this, id + "Container", new EcsEc2ContainerDefinitionProps
            {
                Image = image,
                Cpu = resources.Vcpus,
                Memory = Size.Mebibytes(resources.MemoryMiB),
                JobRole = JobRole,
                Environment = environment,
                Logging = LogDriver.AwsLogs(new AwsLogDriverProps { LogGroup = JobLogs, StreamPrefix = $"ppid{ppid}" }),
            }),
            Timeout = Duration.Minutes(resources.TimeoutMinutes),
            RetryAttempts = attempts,
            RetryStrategies = HostFailureRetries(),
            PropagateTags = true,
        });
    }

    /// <summary>
    /// Batch's evaluateOnExit rules, evaluated in order; the first match decides, and a job that
    /// matches none is retried. So the list ends with rules that match everything: any exit code
    /// (a container that exited), and any status reason (a container that never exited, e.g. one
    /// stopped by its attempt timeout, which has no exit code). At most five rules are allowed.
    /// </summary>
    public static RetryStrategy[] HostFailureRetries() =>
    [
        // Spot reclaim and any other host termination: "Host EC2 (instance i-...) terminated."
        RetryStrategy.Of(Amazon.CDK.AWS.Batch.Action.RETRY, Reason.SPOT_INSTANCE_RECLAIMED),
        RetryStrategy.Of(Amazon.CDK.AWS.Batch.Action.RETRY, Reason.Custom(new CustomReason
        {
            OnStatusReason = "Timeout waiting for network interface provisioning*",
        })),
        RetryStrategy.Of(Amazon.CDK.AWS.Batch.Action.RETRY, Reason.CANNOT_PULL_CONTAINER),
        RetryStrategy.Of(Amazon.CDK.AWS.Batch.Action.EXIT, Reason.Custom(new CustomReason { OnExitCode = "*" })),
        RetryStrategy.Of(Amazon.CDK.AWS.Batch.Action.EXIT, Reason.Custom(new CustomReason { OnStatusReason = "*" })),
    ];

    internal static RetentionDays RetentionFor(int days) => days switch
    {
        <= 1 => RetentionDays.ONE_DAY,
        <= 7 => RetentionDays.ONE_WEEK,
        <= 14 => RetentionDays.TWO_WEEKS,
        <= 30 => RetentionDays.ONE_MONTH,
        <= 90 => RetentionDays.THREE_MONTHS,
        <= 180 => RetentionDays.SIX_MONTHS,
        <= 365 => RetentionDays.ONE_YEAR,
        _ => RetentionDays.TWO_YEARS,
    };
}
