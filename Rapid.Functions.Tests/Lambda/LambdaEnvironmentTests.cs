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
}
