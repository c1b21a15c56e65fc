using Amazon.CDK.Assertions;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class RapidStackTests(DefaultStack stack)
{
    [Fact]
    public void Synth_raises_no_errors_or_warnings()
    {
        var annotations = Annotations.FromStack(stack.Stack);
        annotations.HasNoError("*", Match.AnyValue());
        annotations.HasNoWarning("*", Match.AnyValue());
    }

    [Theory]
    [InlineData("StateMachineArn")]
    [InlineData("ProductsBucket")]
    [InlineData("DatabaseEndpoint")]
    [InlineData("DatabaseSecretArn")]
    [InlineData("OperationsSecretArn")]
    [InlineData("SourceRevision")]
    public void Outputs_what_ops_staff_need_after_deploy(string output) =>
        stack.Template.HasOutput(output, Match.AnyValue());
}
