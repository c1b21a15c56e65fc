using System.Text;
using System.Text.Json;
using Rapid.Core.Contracts;

namespace Rapid.Core.Tests.Contracts;

/// <summary>Settings profiles: the file format, its one-line errors, the hash, the docs generated from the settings, and --set reaching every field.</summary>
public class SettingsProfileTests
{
    private static SettingsProfile Parse(string json) => SettingsProfile.Parse(Encoding.UTF8.GetBytes(json), "night.json");

    [Fact]
    public void A_profile_sets_what_it_names_and_leaves_the_rest_at_their_defaults()
    {
        var p = Parse("""{ "schemaVersion": 1, "name": "deep-h158", "description": "faint limit", "settings": { "detectionThresholdSigma": 4.5, "minReferenceInputs": 5 } }""");
        Assert.Equal("deep-h158", p.Name);
        Assert.Equal("faint limit", p.Description);
        Assert.Equal(new PipelineSettings { DetectionThresholdSigma = 4.5, MinReferenceInputs = 5 }, p.Settings);
    }

    [Theory]
    [InlineData("""{ "schemaVersion": 2, "name": "x" }""", "night.json: schemaVersion is 2; this version of Rapid reads 1")]
    [InlineData("""{ "name": "x" }""", "night.json: schemaVersion is missing")]
    [InlineData("""{ "schemaVersion": 1 }""", "night.json: name is missing")]
    [InlineData("""{ "schemaVersion": 1, "name": "x", "setings": {} }""", "night.json: setings is not a field of a settings profile")]
    [InlineData("""{ "schemaVersion": 1, "name": "x", "settings": { "detectionThreshold": 4 } }""", "night.json: settings.detectionThreshold: no such setting")]
    [InlineData("""{ "schemaVersion": 1, "name": "x", "settings": { "coaddClipSigma": "three" } }""", "night.json: settings.coaddClipSigma = \"three\" is not a number")]
    [InlineData("""{ "schemaVersion": 1, "name": "x", "settings": { "maxReferenceInputs": 2 } }""", "night.json: settings.maxReferenceInputs = 2 must be at least minReferenceInputs (3)")]
    [InlineData("""{ "schemaVersion": 1, "name": "x", "settings": { "minReferenceInputs": 2.5 } }""", "night.json: settings")]
    [InlineData("""[1, 2]""", "night.json: a settings profile is a JSON object")]
    [InlineData("""{ nope""", "night.json: not JSON")]
    public void A_bad_profile_is_one_line_naming_the_file_and_field(string json, string message)
    {
        var e = Assert.Throws<SettingsException>(() => Parse(json));
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_hash_follows_the_values_not_how_they_were_given()
    {
        var a = Parse("""{ "schemaVersion": 1, "name": "a", "settings": { "detectionThresholdSigma": 5 } }""").Settings;
        Assert.Equal(new PipelineSettings().Hash(), a.Hash());
        Assert.Matches("^[0-9a-f]{16}$", a.Hash());
        Assert.NotEqual(a.Hash(), (a with { DetectionThresholdSigma = 5.5 }).Hash());
    }

    [Fact]
    public void Every_setting_is_documented_and_set_assignments_reach_every_one()
    {
        var entries = SettingsDocumentation.Entries();
        Assert.Equal(PipelineSettingsJson.Names, entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.False(string.IsNullOrWhiteSpace(e.Meaning), e.Name));
        var defaults = JsonSerializer.SerializeToNode(new PipelineSettings(), RapidJsonContext.Default.PipelineSettings)!.AsObject();
        foreach (var name in PipelineSettingsJson.Names)
        {
            // A value one larger than the default (valid for every setting), given as --set gives it.
            var changed = defaults[name]!.GetValue<double>() + 1;
            var settings = PipelineSettingsJson.WithAssignments(new PipelineSettings(), [$"{name.ToUpperInvariant()}={changed}"], "--set ");
            var node = JsonSerializer.SerializeToNode(settings, RapidJsonContext.Default.PipelineSettings)!.AsObject();
            Assert.Equal(changed, node[name]!.GetValue<double>());
        }
    }

    [Fact]
    public void The_settings_documentation_is_generated_from_the_settings()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Rapid.slnx"))) dir = dir.Parent;
        var docs = File.ReadAllText(Path.Combine(dir!.FullName, "docs", "settings.md"));
        Assert.True(docs.Contains(SettingsDocumentation.Markdown(), StringComparison.Ordinal),
            $"docs/settings.md does not hold the current settings table; it should read:\n{SettingsDocumentation.Markdown()}");
    }

    [Fact]
    public void A_job_config_records_its_settings_profile_and_hash()
    {
        var settings = new PipelineSettings { DetectionThresholdSigma = 4.5 };
        var config = new JobConfig { Jid = 7, ProcDate = "20280908", Spec = new NightRecoverySpec(), Settings = settings, SettingsProfile = "deep" };
        var json = JsonSerializer.SerializeToNode(config, RapidJsonContext.Default.JobConfig)!.AsObject();
        Assert.Equal("deep", json["settingsProfile"]!.GetValue<string>());
        Assert.Equal(settings.Hash(), json["settingsHash"]!.GetValue<string>());
        Assert.Equal(4.5, json["settings"]!["detectionThresholdSigma"]!.GetValue<double>());
    }
}
