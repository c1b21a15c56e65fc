using Amazon.CDK;
using Amazon.CDK.AWS.EC2;
using Amazon.CDK.AWS.Logs;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// The VPC: a new one (public subnets for the NAT, private subnets with egress for Batch and the
/// Lambdas, isolated subnets for the database) or an existing one imported by id. An S3 gateway
/// endpoint keeps image and product traffic off the NAT, which is the largest network cost. A new
/// VPC records its flows (accepted and rejected) in CloudWatch Logs.
/// </summary>
public sealed class Network : Construct
{
    public IVpc Vpc { get; }
    /// <summary>Subnets with outbound access: Batch hosts (ECR, CloudWatch) and the Lambdas (Secrets Manager).</summary>
    public SubnetSelection ComputeSubnets { get; }
    /// <summary>Subnets without a route out: the database.</summary>
    public SubnetSelection DatabaseSubnets { get; }

    public Network(Construct scope, string id, NetworkSettings settings, int logRetentionDays) : base(scope, id)
    {
        if (settings.IsImported)
        {
            if (settings.AvailabilityZones.Count == 0 || settings.PrivateSubnetIds.Count == 0)
                throw new ArgumentException(
                    "context 'rapid:vpcId' needs 'rapid:vpcAvailabilityZones' and 'rapid:vpcPrivateSubnetIds' (one subnet per zone)");
            var isolated = settings.IsolatedSubnetIds.Count > 0 ? settings.IsolatedSubnetIds : settings.PrivateSubnetIds;
            Vpc = Amazon.CDK.AWS.EC2.Vpc.FromVpcAttributes(this, "Imported", new VpcAttributes
            {
                VpcId = settings.VpcId!,
                AvailabilityZones = settings.AvailabilityZones.ToArray(),
                PrivateSubnetIds = settings.PrivateSubnetIds.ToArray(),
                IsolatedSubnetIds = isolated.ToArray(),
            });
            ComputeSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_WITH_EGRESS };
            DatabaseSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_ISOLATED };
            return;
        }

        var vpc = new Vpc(this, "Vpc", new VpcProps
        {
            MaxAzs = settings.MaxAzs,
            NatGateways = settings.NatGateways,
            SubnetConfiguration =
            [
                new SubnetConfiguration { Name = "public", SubnetType = SubnetType.PUBLIC, CidrMask = 24 },
                // Batch can run thousands of hosts at once: give compute subnets room for their ENIs.
                new SubnetConfiguration { Name = "compute", SubnetType = SubnetType.PRIVATE_WITH_EGRESS, CidrMask = 18 },
                new SubnetConfiguration { Name = "database", SubnetType = SubnetType.PRIVATE_ISOLATED, CidrMask = 24 },
            ],
            GatewayEndpoints = new Dictionary<string, IGatewayVpcEndpointOptions>
            {
                ["S3"] = new GatewayVpcEndpointOptions { Service = GatewayVpcEndpointAwsService.S3 },
            },
        });
        vpc.AddFlowLog("FlowLog", new FlowLogOptions
        {
            TrafficType = FlowLogTrafficType.ALL,
            Destination = FlowLogDestination.ToCloudWatchLogs(new LogGroup(this, "FlowLogs", new LogGroupProps
            {
                Retention = BatchCompute.RetentionFor(logRetentionDays),
                RemovalPolicy = RemovalPolicy.DESTROY,
            })),
        });
        Vpc = vpc;
        ComputeSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_WITH_EGRESS };
        DatabaseSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_ISOLATED };
    }
}
