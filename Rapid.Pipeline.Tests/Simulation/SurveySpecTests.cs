using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Simulation;

public class SurveySpecTests
{
    [Fact]
    public void Demo_spec_is_the_walking_skeleton_survey()
    {
        var spec = SurveySpec.Demo([(10, 20), (11, 20)]);
        spec.Validate();
        Assert.Equal((2, 1024, 8), (spec.FieldCentres.Count, spec.Size, spec.Epochs));
        Assert.Equal(["F184", "H158"], spec.Filters);
        Assert.True(spec.TransientsPerField > 0);
    }

    [Theory]
    [InlineData("Epochs")]
    [InlineData("Size")]
    [InlineData("Scas")]
    [InlineData("FieldCentres")]
    public void Invalid_settings_are_named_in_the_error(string setting)
    {
        var good = new SurveySpec { FieldCentres = [(10, 20)] };
        var bad = setting switch
        {
            "Epochs" => good with { Epochs = 0 },
            "Size" => good with { Size = 10 },
            "Scas" => good with { Scas = [3, 19] },
            _ => good with { FieldCentres = [(400, 20)] },
        };
        var ex = Assert.Throws<ArgumentException>(bad.Validate);
        Assert.Contains(setting == "FieldCentres" ? "field centre" : setting, ex.Message);
    }

    [Fact]
    public void Transients_need_epochs_after_the_quiet_ones()
    {
        var ex = Assert.Throws<ArgumentException>(new SurveySpec { FieldCentres = [(10, 20)], Epochs = 5, TransientQuietEpochs = 4 }.Validate);
        Assert.Contains("TransientQuietEpochs", ex.Message);
    }

    [Fact]
    public void Filter_aliases_resolve_to_the_openuniverse_names()
    {
        Assert.Equal("H158", RomanFilter.Named("f158").Name);
        Assert.Equal("F184", RomanFilter.Named("F184").Name);
        Assert.Throws<ArgumentException>(() => new SurveySpec { FieldCentres = [(10, 20)], Filters = ["H158", "F158"] }.Validate());
    }
}
