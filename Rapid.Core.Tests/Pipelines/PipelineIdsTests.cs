using Rapid.Core.Pipelines;

namespace Rapid.Core.Tests.Pipelines;

public class PipelineIdsTests
{
    [Fact]
    public void Ids_are_those_of_the_original_pipelines_table()
    {
        Assert.Equal(12, PipelineIds.ReferenceImage);
        Assert.Equal(15, PipelineIds.Science);
        Assert.Equal(17, PipelineIds.PostProcessing);
        Assert.Equal(18, PipelineIds.NightRecovery);   // Rapid's own: the night's injection-recovery merge
        Assert.Equal([12, 15, 17, 18], PipelineIds.All);
    }

    [Theory]
    [InlineData(12, "reference image")]
    [InlineData(15, "science (difference image)")]
    [InlineData(17, "post-processing")]
    [InlineData(99, "unknown pipeline 99")]
    public void Describe_names_each_pipeline(int ppid, string text) => Assert.Equal(text, PipelineIds.Describe(ppid));
}
