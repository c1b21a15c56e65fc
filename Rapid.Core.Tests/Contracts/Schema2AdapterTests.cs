using System.Text.Json;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;

namespace Rapid.Core.Tests.Contracts;

/// <summary>
/// Job configs and manifests of schema 2 as the previous release wrote them, read through the schema-2 adapters into the
/// current types: every section reaches the typed spec or outcome of its pipeline. The files under Samples/schema2 were
/// recorded from that release (commit 56fcf51): its <c>./rapid demo</c>, a 192 px demo for the degraded manifest, and its
/// pipeline entry point run on a config naming a missing input for the failed one.
/// </summary>
public sealed class Schema2AdapterTests
{
    private static byte[] Sample(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Contracts", "Samples", "schema2", name));

    private static JsonElement Json(string name) => JsonDocument.Parse(Sample(name)).RootElement;

    private static JobConfig Config(string name) => Contract.Deserialize<JobConfig>(Sample(name), name);

    private static ProductManifest Manifest(string name) => Contract.Deserialize<ProductManifest>(Sample(name), name);

    [Fact]
    public void A_reference_config_becomes_a_reference_spec_with_its_tile_inputs_and_settings()
    {
        var json = Json("job_config_reference.json");

        var config = Config("job_config_reference.json");

        var spec = Assert.IsType<ReferenceImageSpec>(config.Spec);
        // Read into the current schema: written again, it is a schema-3 config.
        Assert.Equal((JobConfig.CurrentSchemaVersion, 1L, 12), (config.SchemaVersion, config.Jid, config.Ppid));
        Assert.Equal(json.GetProperty("tile").GetProperty("field").GetInt64(), spec.Tile.Field);
        Assert.Equal(json.GetProperty("tile").GetProperty("naxis1").GetInt32(), spec.Tile.Naxis1);
        Assert.Equal(json.GetProperty("reference").GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("rid").GetInt64()),
            spec.Inputs.Select(i => i.Rid));
        Assert.Equal(json.GetProperty("reference").GetProperty("inputs")[0].GetProperty("md5").GetString(), spec.Inputs[0].Md5);
        Assert.Equal(json.GetProperty("settings").GetProperty("detectionThresholdSigma").GetDouble(), config.Settings.DetectionThresholdSigma);
    }

    [Fact]
    public void A_science_config_becomes_a_science_spec_with_its_image_reference_tile_and_fake_sources()
    {
        var json = Json("job_config_science.json");

        var spec = Assert.IsType<ScienceSpec>(Config("job_config_science.json").Spec);

        Assert.Equal(json.GetProperty("science").GetProperty("rid").GetInt64(), spec.Science.Rid);
        Assert.Equal(json.GetProperty("science").GetProperty("file").GetString(), spec.Science.File.ToString());
        Assert.True(spec.Reference.IsRegistered);
        Assert.Equal(json.GetProperty("reference").GetProperty("rfid").GetInt64(), spec.Reference.Rfid);
        Assert.Equal(json.GetProperty("reference").GetProperty("coverage").GetString(), spec.Reference.Coverage!.ToString());
        Assert.Equal(json.GetProperty("tile").GetProperty("field").GetInt64(), spec.Tile!.Field);
        Assert.Equal(json.GetProperty("fakeSources").GetProperty("seed").GetInt64(), spec.FakeSources!.Seed);
        Assert.Equal(json.GetProperty("fakeSources").GetProperty("count").GetInt32(), spec.FakeSources.Count);
    }

    [Theory]
    [InlineData("job_config_postprocessing_reference.json")]
    [InlineData("job_config_postprocessing_science.json")]
    public void A_post_processing_config_becomes_its_spec_with_every_product_to_stamp(string name)
    {
        var json = Json(name).GetProperty("postProcessing");

        var spec = Assert.IsType<PostProcessingSpec>(Config(name).Spec);

        Assert.Equal(json.GetProperty("sourceJid").GetInt64(), spec.SourceJid);
        Assert.Equal(json.GetProperty("sourcePpid").GetInt32(), spec.SourcePpid);
        var products = json.GetProperty("products").EnumerateArray().ToList();
        Assert.Equal(products.Count, spec.Products.Count);
        Assert.Equal(products.Select(p => p.GetProperty("target").GetString()), spec.Products.Select(p => p.Target.ToString()));
        Assert.Equal(products[0].GetProperty("keywords").EnumerateObject().Select(k => (k.Name, k.Value.GetString())),
            spec.Products[0].Keywords.Select(k => (k.Key, (string?)k.Value)));
    }

    [Fact]
    public void A_night_recovery_config_becomes_its_spec_with_its_tables()
    {
        var json = Json("job_config_nightrecovery.json").GetProperty("nightRecovery");

        var spec = Assert.IsType<NightRecoverySpec>(Config("job_config_nightrecovery.json").Spec);

        Assert.Equal(json.GetProperty("binWidthMag").GetDouble(), spec.BinWidthMag);
        Assert.Equal(json.GetProperty("tables").EnumerateArray().Select(t => t.GetProperty("file").GetString()), spec.Tables.Select(t => t.File.ToString()));
    }

    [Fact]
    public void A_science_manifest_becomes_a_science_outcome_with_its_envelope()
    {
        var json = Json("manifest_science.json");

        var m = Manifest("manifest_science.json");

        Assert.Equal((ProductManifest.CurrentSchemaVersion, 5L, 15, 0), (m.SchemaVersion, m.Jid, m.Ppid, m.ExitCode));
        Assert.Equal(json.GetProperty("started").GetDateTimeOffset(), m.Started);
        Assert.Equal(json.GetProperty("batchJobId").GetString(), m.Batch.JobId);
        Assert.Equal("56fcf51d4e4671d15e204ddf7fbcecccad1b8dfe", m.Software.GitCommit);
        Assert.Equal(json.GetProperty("configSha256").GetString(), m.ConfigSha256);
        Assert.Equal((m.Ended - m.Started).TotalSeconds, m.Resources.WallSeconds);
        Assert.Equal(json.GetProperty("products").GetArrayLength(), m.Products.Count);
        var science = Assert.IsType<ScienceOutcome>(m.Outcome);
        var d = json.GetProperty("differenceImage");
        Assert.Equal((d.GetProperty("rid").GetInt64(), d.GetProperty("nSources").GetInt32(), d.GetProperty("scaleFactor").GetDouble()),
            (science.Difference.Rid, science.Difference.NSources, science.Difference.ScaleFactor));
        Assert.Null(science.CoaddedReference);
        var injection = json.GetProperty("injectionRecovery");
        Assert.Equal((injection.GetProperty("seed").GetInt64(), injection.GetProperty("fakes").GetProperty("found").GetInt32()),
            (science.InjectionRecovery!.Seed, science.InjectionRecovery.Fakes.Found));
    }

    [Fact]
    public void A_reference_manifest_becomes_a_reference_outcome()
    {
        var json = Json("manifest_reference.json").GetProperty("referenceImage");

        var outcome = Assert.IsType<ReferenceImageOutcome>(Manifest("manifest_reference.json").Outcome);

        Assert.Equal(json.GetProperty("inputRids").EnumerateArray().Select(r => r.GetInt64()), outcome.Reference.InputRids);
        Assert.Equal(json.GetProperty("cov5Percent").GetDouble(), outcome.Reference.Cov5Percent);
    }

    [Fact]
    public void A_post_processing_manifest_becomes_its_outcome_without_the_sources_schema_2_did_not_record()
    {
        var json = Json("manifest_postprocessing_science.json").GetProperty("postProcessing");

        var outcome = Assert.IsType<PostProcessingOutcome>(Manifest("manifest_postprocessing_science.json").Outcome);

        Assert.Equal(json.GetProperty("sourceJid").GetInt64(), outcome.SourceJid);
        Assert.Equal(json.GetProperty("stamped").EnumerateArray().Select(s => s.GetProperty("file").GetString()), outcome.Stamped.Select(s => s.File.ToString()));
        Assert.All(outcome.Stamped, s => Assert.Null(s.Source));
    }

    [Fact]
    public void A_night_recovery_manifest_becomes_its_outcome_with_every_filter_and_bin()
    {
        var json = Json("manifest_nightrecovery.json").GetProperty("nightRecovery");

        var outcome = Assert.IsType<NightRecoveryOutcome>(Manifest("manifest_nightrecovery.json").Outcome);

        Assert.Equal(json.GetProperty("tables").GetInt32(), outcome.Tables);
        Assert.Equal(json.GetProperty("filters").EnumerateArray().Select(f => (f.GetProperty("fid").GetInt32(), f.GetProperty("kind").GetString()!, f.GetProperty("bins").GetArrayLength())),
            outcome.Filters.Select(f => (f.Fid, f.Kind, f.Bins.Count)));
    }

    [Fact]
    public void A_failed_manifest_keeps_its_exit_code_and_reason_and_has_no_outcome()
    {
        var m = Manifest("manifest_science_failed.json");

        Assert.Equal((ExitCodes.InvalidInput, "input s3://rapid-l2-files/demo/missing_sca01.fits does not exist"), (m.ExitCode, m.Reason));
        Assert.Null(m.Outcome);
        Assert.Empty(m.Products);
    }

    [Fact]
    public void A_degraded_manifests_text_warnings_become_typed_warnings_and_leave_the_reason()
    {
        var json = Json("manifest_science_degraded.json");

        var m = Manifest("manifest_science_degraded.json");

        Assert.Equal(ExitCodes.Degraded, m.ExitCode);
        Assert.Equal([JobWarningKind.Psf, JobWarningKind.FluxScale], m.Warnings.Select(w => w.Kind));
        Assert.Equal(json.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()), m.Warnings.Select(w => w.Message));
        // Schema 2 repeated the warnings as the reason of a degraded job; schema 3 keeps the reason for failures.
        Assert.Null(m.Reason);
        Assert.IsType<ScienceOutcome>(m.Outcome);
    }

    [Theory]
    [InlineData("psf: the science PSF is a GaussianFromDefault fallback", JobWarningKind.Psf)]
    [InlineData("flux matching: only 0 star(s) matched between science and reference", JobWarningKind.FluxScale)]
    [InlineData("coverage: 61.0 % of the difference image is masked", JobWarningKind.Coverage)]
    [InlineData("fake sources: sci.fits has no ZPTMAG, so magnitudes cannot be turned into fluxes; none injected", JobWarningKind.FakeSources)]
    [InlineData("something else", JobWarningKind.Unclassified)]
    public void Schema_2_text_warnings_get_the_kind_their_prefix_names(string text, JobWarningKind kind) =>
        Assert.Equal(kind, Rapid.Core.Contracts.Schema2.ProductManifestV2.KindOf(text));
}
