using Rapid.Functions.Lambda;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Tests.Lambda;

public sealed class LambdaEnvironmentTests
{
    private static LambdaEnvironment With(string? grid) =>
        new(name => name == LambdaEnvironment.ReferenceGridVariable ? grid : null);

    [Fact]
    public void Without_a_reference_grid_the_plans_use_the_default_tile_grid()
    {
        var options = With(null).Planning(force: true);

        Assert.Equal((new PlanningOptions().TileNaxis1, new PlanningOptions().TileNaxis2), (options.TileNaxis1, options.TileNaxis2));
        Assert.True(options.Force);
    }

    [Fact]
    public void The_reference_grid_variable_sets_a_square_tile_grid()
    {
        var options = With("256").Planning(force: false);

        Assert.Equal((256, 256), (options.TileNaxis1, options.TileNaxis2));
        Assert.False(options.Force);
    }

    [Theory]
    [InlineData("32")]
    [InlineData("-500")]
    [InlineData("7000px")]
    public void A_reference_grid_that_is_not_a_size_of_at_least_64_pixels_is_named_in_the_error(string grid)
    {
        var e = Assert.Throws<InvalidOperationException>(() => With(grid).Planning(force: false));
        Assert.Contains(LambdaEnvironment.ReferenceGridVariable, e.Message);
        Assert.Contains(grid, e.Message);
    }

    [Fact]
    public async Task The_settings_profile_variable_names_a_profile_in_the_store_the_plans_run_with()
    {
        var root = Directory.CreateTempSubdirectory("rapid-profile-").FullName;
        try
        {
            var store = new Rapid.Core.Storage.DirectoryObjectStore(root);
            var key = new Rapid.Core.Storage.ObjectRef("rapid-pipeline-files", "settings/deep.json");
            await store.PutBytesAsync(key, System.Text.Encoding.UTF8.GetBytes("""{ "schemaVersion": 1, "name": "deep", "settings": { "detectionThresholdSigma": 4.5 } }"""));
            var env = new LambdaEnvironment(name => name switch
            {
                LambdaEnvironment.SettingsProfileVariable => key.ToString(),
                "RAPID_STORE_ROOT" => root,
                _ => null,
            });

            var options = await env.PlanningAsync(force: false);

            Assert.Equal("deep", options.SettingsProfile);
            Assert.Equal(4.5, options.Pipeline.DetectionThresholdSigma);
            var missing = new LambdaEnvironment(name => name switch
            {
                LambdaEnvironment.SettingsProfileVariable => "s3://rapid-pipeline-files/settings/none.json",
                "RAPID_STORE_ROOT" => root,
                _ => null,
            });
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => missing.PlanningAsync(force: false));
            Assert.Contains("settings/none.json", e.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
