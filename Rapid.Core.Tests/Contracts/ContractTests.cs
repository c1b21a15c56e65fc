using System.Text;
using System.Text.Json;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Contracts;

public sealed class ContractTests : IDisposable
{
    private readonly TemporaryDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static ObjectRef Obj(string uri) => ObjectRef.Parse(uri);

    private static L2Image Image(long rid) => new()
    {
        Rid = rid,
        Expid = 5000 + rid,
        Sca = 7,
        Fid = 3,
        Filter = "F158",
        Field = 123456,
        MjdObs = 61000.123456789,
        ExpTime = 139.8,
        File = Obj($"s3://rapid-l2-files/Roman_TDS_simple_model_F158_{rid}_7.fits.gz"),
        Md5 = "900150983cd24fb0d6963f7d28e17f72",
    };

    private static TileGrid Tile() => new()
    {
        Field = 123456, CenterRaDeg = 9.8765, CenterDecDeg = -44.25, Naxis1 = 7000, Naxis2 = 7000, PixelScaleArcsec = 0.11,
    };

    private static PipelineSettings NonDefaultSettings() => new()
    {
        MinReferenceInputs = 4, MaxReferenceInputs = 30, DetectionThresholdSigma = 4.5, CoaddClipSigma = 2.5,
        MinReferenceCoverage = 0.25, DefaultGain = 1.5, DefaultReadNoise = 9.25, DefaultSaturation = 65535, BackgroundMeshSize = 128,
    };

    /// <summary>ppid 12: a tile and the images to co-add onto it.</summary>
    public static JobConfig ReferenceJob() => new()
    {
        Jid = 11, Ppid = 12, ProcDate = "20250404",
        Tile = Tile(),
        Reference = new ReferenceSource { Inputs = [Image(1), Image(2), Image(3)] },
        Settings = NonDefaultSettings(),
    };

    /// <summary>ppid 15: a science image with a registered reference image.</summary>
    public static JobConfig ScienceJob() => new()
    {
        Jid = 12, Ppid = 15, ProcDate = "20250404",
        Science = Image(9),
        Tile = Tile(),
        Reference = new ReferenceSource
        {
            Rfid = 77, Version = 2,
            Image = Obj("s3://rapid-product-files/20250403/jid11/refimage.fits"),
            Coverage = Obj("s3://rapid-product-files/20250403/jid11/refimage_cov.fits"),
            Uncertainty = Obj("s3://rapid-product-files/20250403/jid11/refimage_uncert.fits"),
        },
    };

    /// <summary>ppid 17: products of job 12 to stamp; FITS keywords are upper case and must stay so.</summary>
    public static JobConfig PostProcessingJob() => new()
    {
        Jid = 13, Ppid = 17, ProcDate = "20250404",
        PostProcessing = new PostProcessingInput
        {
            SourceJid = 12, SourcePpid = 15,
            Products =
            [
                new ProductToStamp
                {
                    Role = ProductRoles.DifferenceImage,
                    Source = Obj("s3://rapid-product-files/20250404/jid12/diffimage.fits"),
                    Target = Obj("s3://rapid-product-files/20250404/jid13/rapid_field123456_fid3_sca7_rid9_ppid15_v1_pid44_diffimage.fits"),
                    Keywords = new Dictionary<string, string> { ["PID"] = "44", ["RFID"] = "77", ["RFIMVER"] = "2" },
                },
            ],
        },
    };

    public static JobList List() => new()
    {
        Ppid = 15, ProcDate = "20250404",
        Jobs =
        [
            new JobListEntry(12, Obj("s3://rapid-pipeline-files/20250404/jid12/job_config_jid12.json"), Obj("s3://rapid-product-files/20250404/jid12/manifest_jid12.json")),
            new JobListEntry(14, Obj("s3://rapid-pipeline-files/20250404/jid14/job_config_jid14.json"), Obj("s3://rapid-product-files/20250404/jid14/manifest_jid14.json")),
        ],
    };

    public static PlanResult Plan() => new()
    {
        Ppid = 15, ProcDate = "20250404", JobList = Obj("s3://rapid-pipeline-files/20250404/plans/ppid15_abc.json"), ArraySize = 2, ClosedAtPlanning = 1,
    };

    private static ProductFile Product(string role, string uri) => new(role, Obj(uri), FileChecksum.Of(Encoding.UTF8.GetBytes(uri)));

    /// <summary>A manifest with every optional section present.</summary>
    public static ProductManifest FullManifest() => new()
    {
        Jid = 12, Ppid = 15, ProcDate = "20250404", ExitCode = 32,
        Reason = "PSF fit degraded",
        Warnings = ["psf: only 12 stars", "background: mesh clipped"],
        Started = new DateTimeOffset(2025, 4, 5, 6, 7, 8, 123, TimeSpan.Zero),
        Ended = new DateTimeOffset(2025, 4, 5, 6, 17, 8, 456, TimeSpan.Zero),
        BatchJobId = "a1b2c3:0", Attempt = 2, SoftwareVersion = "1.2.3+abcdef",
        ConfigSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Products =
        [
            Product(ProductRoles.DifferenceImage, "s3://rapid-product-files/20250404/jid12/diffimage.fits"),
            Product(ProductRoles.DifferenceCatalog, "s3://rapid-product-files/20250404/jid12/sources.txt"),
        ],
        StepSeconds = new Dictionary<string, double> { ["Resample"] = 12.5, ["ZOGY"] = 30.25 },
        ReferenceImage = new ReferenceImageResult
        {
            Field = 123456, Fid = 3, InputRids = [1, 2, 3], NFrames = 3, MjdObsMin = 60999.5, MjdObsMax = 61000.25,
            NPixNan = 10, NPixSat = 2, Cov5Percent = 1.5, MedianCoverage = 3, MedianPixelUncertainty = 0.125,
            ClippedMean = 0.5, ClippedSigma = 2.25, FwhmMedian = 1.75, NSources = 1234,
        },
        DifferenceImage = new DifferenceImageResult
        {
            Rid = 9, Rfid = 77, NSources = 40, NPositive = 25, NNegative = 15, ScaleFactor = 1.0625,
            DxRms = 0.05, DyRms = 0.06, DxMedian = -0.01, DyMedian = 0.02, BackgroundScience = 10.5,
            BackgroundReference = 9.5, FwhmScience = 1.8, FwhmReference = 1.7,
            CornersRaDec = [9.87, -44.25, 9.8, -44.3, 9.95, -44.3, 9.95, -44.2, 9.8, -44.2],
        },
        PostProcessing = new PostProcessingResult
        {
            SourceJid = 11,
            Stamped = [Product(ProductRoles.ReferenceImage, "s3://rapid-product-files/20250404/jid13/rapid_field123456_fid3_ppid12_v2_rfid77_refimage.fits")],
        },
    };

    private static T RoundTrip<T>(T value) => Contract.Deserialize<T>(Contract.Serialize(value), "test");

    public static TheoryData<string> JobConfigs => ["reference", "science", "postproc"];

    private static JobConfig JobConfigNamed(string name) => name switch
    {
        "reference" => ReferenceJob(),
        "science" => ScienceJob(),
        _ => PostProcessingJob(),
    };

    [Theory]
    [MemberData(nameof(JobConfigs))]
    public void Every_job_config_section_round_trips(string name)
    {
        var config = JobConfigNamed(name);

        var back = RoundTrip(config);

        Assert.Equivalent(config, back, strict: true);
        Assert.Equal(Contract.Serialize(config), Contract.Serialize(back));
    }

    [Fact]
    public void A_science_job_keeps_its_registered_reference()
    {
        var back = RoundTrip(ScienceJob());

        Assert.True(back.Reference!.IsRegistered);
        Assert.Equal(Obj("s3://rapid-product-files/20250403/jid11/refimage.fits"), back.Reference.Image);
        Assert.Equal(Obj("s3://rapid-l2-files/Roman_TDS_simple_model_F158_9_7.fits.gz"), back.Science!.File);
        Assert.Null(back.PostProcessing);
    }

    [Fact]
    public void Job_list_round_trips() => Assert.Equivalent(List(), RoundTrip(List()), strict: true);

    [Fact]
    public void Plan_result_round_trips_with_and_without_a_job_list()
    {
        Assert.Equivalent(Plan(), RoundTrip(Plan()), strict: true);

        var nothing = new PlanResult { Ppid = 12, ProcDate = "20250404" };
        var back = RoundTrip(nothing);
        Assert.Null(back.JobList);
        Assert.Equal(nothing, back);
    }

    [Fact]
    public void Manifest_with_every_section_round_trips()
    {
        var manifest = FullManifest();

        var back = RoundTrip(manifest);

        Assert.Equivalent(manifest, back, strict: true);
        Assert.Equal(manifest.Started, back.Started);
        Assert.Equal(manifest.Products[0].Checksum, back.Products[0].Checksum);
    }

    [Fact]
    public void A_minimal_failure_manifest_round_trips_without_optional_sections()
    {
        var manifest = new ProductManifest { Jid = 5, Ppid = 15, ProcDate = "20250404", ExitCode = 65, Reason = "science image missing" };

        var json = Encoding.UTF8.GetString(Contract.Serialize(manifest));
        var back = RoundTrip(manifest);

        Assert.Equivalent(manifest, back, strict: true);
        Assert.DoesNotContain("referenceImage", json);
        Assert.DoesNotContain("batchJobId", json);
    }

    [Fact]
    public void Statistics_that_are_not_finite_survive_a_manifest_round_trip()
    {
        // A reference built from frames with no usable pixels has NaN statistics; writing the
        // manifest must not fail, or the job would be lost instead of reporting why.
        var manifest = FullManifest() with
        {
            ReferenceImage = FullManifest().ReferenceImage! with { MedianCoverage = double.NaN, FwhmMedian = double.PositiveInfinity },
        };

        var back = RoundTrip(manifest);

        Assert.True(double.IsNaN(back.ReferenceImage!.MedianCoverage));
        Assert.Equal(double.PositiveInfinity, back.ReferenceImage.FwhmMedian);
    }

    [Fact]
    public void Object_refs_are_written_as_s3_uris()
    {
        using var doc = JsonDocument.Parse(Contract.Serialize(ScienceJob()));
        var root = doc.RootElement;

        Assert.Equal("s3://rapid-l2-files/Roman_TDS_simple_model_F158_9_7.fits.gz", root.GetProperty("science").GetProperty("file").GetString());
        Assert.Equal("s3://rapid-product-files/20250403/jid11/refimage_cov.fits", root.GetProperty("reference").GetProperty("coverage").GetString());

        using var list = JsonDocument.Parse(Contract.Serialize(List()));
        Assert.Equal("s3://rapid-pipeline-files/20250404/jid12/job_config_jid12.json",
            list.RootElement.GetProperty("jobs")[0].GetProperty("config").GetString());
    }

    [Fact]
    public void Property_names_are_camel_case_and_dictionary_keys_are_kept_as_given()
    {
        using var config = JsonDocument.Parse(Contract.Serialize(PostProcessingJob()));
        using var manifest = JsonDocument.Parse(Contract.Serialize(FullManifest()));

        var names = PropertyNames(config.RootElement).Concat(PropertyNames(manifest.RootElement)).ToList();

        Assert.Contains("schemaVersion", names);
        Assert.Contains("procDate", names);
        Assert.Contains("sizeBytes", names);
        Assert.Contains("cov5Percent", names);
        Assert.Contains("mjdObsMin", names);
        Assert.All(names, n => Assert.True(char.IsLower(n[0]), $"property '{n}' is not camelCase"));

        var keywords = config.RootElement.GetProperty("postProcessing").GetProperty("products")[0].GetProperty("keywords");
        Assert.Equal(["PID", "RFID", "RFIMVER"], keywords.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["Resample", "ZOGY"], manifest.RootElement.GetProperty("stepSeconds").EnumerateObject().Select(p => p.Name));
    }

    /// <summary>Names of object properties, recursively, except the keys of the two dictionaries.</summary>
    private static IEnumerable<string> PropertyNames(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p =>
            p.Name is "keywords" or "stepSeconds" ? [p.Name] : PropertyNames(p.Value).Prepend(p.Name)),
        JsonValueKind.Array => e.EnumerateArray().SelectMany(PropertyNames),
        _ => [],
    };

    [Fact]
    public void The_schema_version_is_written()
    {
        using var doc = JsonDocument.Parse(Contract.Serialize(ReferenceJob()));

        Assert.Equal(JobConfig.CurrentSchemaVersion, doc.RootElement.GetProperty("schemaVersion").GetInt32());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public void An_unsupported_schema_version_is_rejected_naming_the_source_and_version(int version)
    {
        var json = Encoding.UTF8.GetBytes($$"""{"schemaVersion": {{version}}, "jid": 1, "ppid": 15, "procDate": "20250404"}""");
        // Job configs are read from version 1 to the current one: one past it is the unsupported one.
        var configVersion = version == 0 ? 0 : JobConfig.CurrentSchemaVersion + 1;
        var configJson = Encoding.UTF8.GetBytes($$"""{"schemaVersion": {{configVersion}}, "jid": 1, "ppid": 15, "procDate": "20250404"}""");

        var config = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(configJson, "s3://p/config.json"));
        var list = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobList>(json, "s3://p/list.json"));
        var manifest = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<ProductManifest>(
            Encoding.UTF8.GetBytes($$"""{"schemaVersion": {{version}}, "jid": 1, "ppid": 15, "procDate": "20250404", "exitCode": 0}"""), "s3://p/manifest.json"));

        Assert.StartsWith("s3://p/config.json: JobConfig schema version " + configVersion, config.Message);
        Assert.StartsWith("s3://p/list.json: JobList schema version " + version, list.Message);
        Assert.StartsWith("s3://p/manifest.json: ProductManifest schema version " + version, manifest.Message);
    }

    [Fact]
    public void A_schema_1_config_and_manifest_still_read_without_the_sections_schema_2_added()
    {
        var config = Contract.Deserialize<JobConfig>(
            Encoding.UTF8.GetBytes("""{"schemaVersion": 1, "jid": 1, "ppid": 15, "procDate": "20250404"}"""), "s3://p/config.json");
        var manifest = Contract.Deserialize<ProductManifest>(
            Encoding.UTF8.GetBytes("""{"schemaVersion": 1, "jid": 1, "ppid": 15, "procDate": "20250404", "exitCode": 0}"""), "s3://p/manifest.json");

        Assert.Equal((1, null, null), (config.SchemaVersion, config.FakeSources, config.NightRecovery));
        Assert.Equal((1, null, null), (manifest.SchemaVersion, manifest.InjectionRecovery, manifest.NightRecovery));
    }

    [Fact]
    public void Fake_sources_and_recovery_figures_round_trip()
    {
        var config = ReferenceJob() with { FakeSources = new FakeSourcesConfig { Count = 20, BrightMag = 21, FaintMag = 26, Seed = 77 } };
        var back = Contract.Deserialize<JobConfig>(Contract.Serialize(config), "config");
        Assert.Equal(config.FakeSources, back.FakeSources);

        var manifest = new ProductManifest
        {
            Jid = 1, Ppid = 15, ProcDate = "20250404", ExitCode = 0,
            InjectionRecovery = new InjectionRecoveryResult
            {
                Seed = 77, Fakes = new RecoveryFigures { Injected = 20, Found = 12, Mag50 = 24.2, FluxBias = double.NaN }, PsfSource = "model",
            },
        };
        var read = Contract.Deserialize<ProductManifest>(Contract.Serialize(manifest), "manifest").InjectionRecovery!;
        Assert.Equal((77L, 20, 12, 8, 24.2, (double?)null, "model"), (read.Seed, read.Fakes.Injected, read.Fakes.Found, read.Fakes.Missed, read.Fakes.Mag50!.Value, read.Fakes.Mag90, read.PsfSource));
        Assert.True(double.IsNaN(read.Fakes.FluxBias));
    }

    [Fact]
    public void A_version_1_config_is_read_without_the_psf_files_version_2_added()
    {
        var v1 = Contract.Deserialize<JobConfig>(
            """{"schemaVersion": 1, "jid": 1, "ppid": 15, "procDate": "20250404", "science": {"rid": 1, "file": "s3://b/sci.fits"}, "reference": {"rfid": 4, "image": "s3://b/ref.fits"}}"""u8, "c.json");
        var v2 = Contract.Deserialize<JobConfig>(Contract.Serialize(v1 with
        {
            SchemaVersion = JobConfig.CurrentSchemaVersion,
            Science = v1.Science! with { Psf = ObjectRef.Parse("s3://b/sci_psf.fits") },
            Reference = v1.Reference! with { Psf = ObjectRef.Parse("s3://b/ref_psf.fits") },
        }), "c2.json");

        Assert.Equal(1, v1.SchemaVersion);
        Assert.Null(v1.Science!.Psf);
        Assert.Null(v1.Reference!.Psf);
        Assert.Equal("s3://b/sci_psf.fits", v2.Science!.Psf!.ToString());
        Assert.Equal("s3://b/ref_psf.fits", v2.Reference!.Psf!.ToString());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("""{"jid": "seven", "ppid": 15, "procDate": "20250404"}""")]
    [InlineData("""{"ppid": 15, "procDate": "20250404"}""")]
    [InlineData("""{"jid": 1, "ppid": 15, "procDate": "20250404", "science": {"rid": 1, "file": "rapid-l2-files/a.fits"}}""")]
    public void Malformed_json_is_rejected_naming_the_source(string text)
    {
        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(text), "s3://p/20250404/jid1/job_config_jid1.json"));

        Assert.StartsWith("s3://p/20250404/jid1/job_config_jid1.json: not a valid JobConfig", e.Message);
    }

    [Fact]
    public void A_bad_object_uri_is_named_in_the_error()
    {
        var json = """{"jid": 1, "ppid": 15, "procDate": "20250404", "science": {"rid": 1, "file": "rapid-l2-files/a.fits"}}""";

        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(json), "config.json"));

        Assert.Contains("'rapid-l2-files/a.fits'", e.Message);
    }

    [Theory]
    [InlineData("""{"jid": 1, "ppid": 15, "procDate": "20250404", "science": {"rid": 1, "file": null}}""")]
    [InlineData("""{"jid": 1, "ppid": 15, "procDate": null}""")]
    public void A_null_where_a_value_is_required_is_rejected(string text)
    {
        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(text), "config.json"));

        Assert.StartsWith("config.json: not a valid JobConfig", e.Message);
    }

    [Fact]
    public void A_product_file_without_its_checksum_is_rejected()
    {
        var text = """{"jid": 1, "ppid": 15, "procDate": "20250404", "exitCode": 0, "products": [{"role": "diffimage", "file": "s3://b/k.fits"}]}""";

        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<ProductManifest>(Encoding.UTF8.GetBytes(text), "manifest.json"));

        Assert.StartsWith("manifest.json: not a valid ProductManifest", e.Message);
        Assert.Contains("checksum", e.Message);
    }

    [Fact]
    public void A_job_list_entry_without_its_manifest_is_rejected()
    {
        var text = """{"ppid": 15, "procDate": "20250404", "jobs": [{"jid": 1, "config": "s3://b/c.json"}]}""";

        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobList>(Encoding.UTF8.GetBytes(text), "list.json"));

        Assert.Contains("manifest", e.Message);
    }

    [Fact]
    public void Json_null_is_rejected_naming_the_source()
    {
        var config = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>("null"u8, "s3://p/config.json"));
        var manifest = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<ProductManifest>("null"u8, "s3://p/manifest.json"));

        Assert.Equal("s3://p/config.json: empty JobConfig", config.Message);
        Assert.Equal("s3://p/manifest.json: empty ProductManifest", manifest.Message);
    }

    [Fact]
    public void A_config_without_a_schema_version_is_read_as_the_current_one()
    {
        var config = Contract.Deserialize<JobConfig>("""{"jid": 1, "ppid": 12, "procDate": "20250404"}"""u8, "c.json");

        Assert.Equal(JobConfig.CurrentSchemaVersion, config.SchemaVersion);
        Assert.Equal(new PipelineSettings(), config.Settings);
    }

    [Fact]
    public void Optional_properties_missing_from_the_json_keep_their_defaults()
    {
        var manifest = Contract.Deserialize<ProductManifest>(
            """{"jid": 1, "ppid": 15, "procDate": "20250404", "exitCode": 0, "differenceImage": {"rid": 3}, "referenceImage": {"field": 1, "fid": 2}}"""u8, "m.json");
        var config = Contract.Deserialize<JobConfig>(
            """{"jid": 1, "ppid": 15, "procDate": "20250404", "science": {"rid": 1, "file": "s3://b/k"}, "reference": {}}"""u8, "c.json");
        var partialSettings = Contract.Deserialize<JobConfig>(
            """{"jid": 1, "ppid": 15, "procDate": "20250404", "settings": {"defaultGain": 2.5}}"""u8, "c.json");
        var list = Contract.Deserialize<JobList>("""{"ppid": 15, "procDate": "20250404"}"""u8, "l.json");

        Assert.Equal(ProductManifest.CurrentSchemaVersion, manifest.SchemaVersion);
        Assert.Empty(manifest.Warnings);
        Assert.Empty(manifest.Products);
        Assert.Empty(manifest.StepSeconds);
        Assert.Equal(1, manifest.Attempt);
        Assert.Equal("", manifest.SoftwareVersion);
        Assert.Equal(1.0, manifest.DifferenceImage!.ScaleFactor);
        Assert.Empty(manifest.DifferenceImage.CornersRaDec);
        Assert.Empty(manifest.ReferenceImage!.InputRids);
        Assert.Equal(new PipelineSettings(), config.Settings);
        Assert.Equal("", config.Science!.Filter);
        Assert.Empty(config.Reference!.Inputs);
        Assert.Equal(new PipelineSettings { DefaultGain = 2.5 }, partialSettings.Settings);
        Assert.Empty(list.Jobs);
    }

    [Fact]
    public async Task Write_then_read_through_a_directory_store()
    {
        var store = new DirectoryObjectStore(_dir.Path);
        var target = Obj("s3://rapid-product-files/20250404/jid12/manifest_jid12.json");

        await Contract.WriteAsync(store, target, FullManifest());
        var back = await Contract.ReadAsync<ProductManifest>(store, target);

        Assert.Equivalent(FullManifest(), back, strict: true);
        Assert.Equal(Contract.Serialize(FullManifest()), await File.ReadAllBytesAsync(store.PathOf(target)));
    }

    [Fact]
    public async Task Reading_a_corrupt_object_names_its_uri()
    {
        var store = new DirectoryObjectStore(_dir.Path);
        var target = Obj("s3://rapid-pipeline-files/20250404/jid12/job_config_jid12.json");
        await store.PutBytesAsync(target, "{\"jid\": 12, \"ppid\""u8.ToArray());

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Contract.ReadAsync<JobConfig>(store, target));

        Assert.StartsWith("s3://rapid-pipeline-files/20250404/jid12/job_config_jid12.json: not a valid JobConfig", e.Message);
    }

    [Fact]
    public async Task Reading_a_missing_contract_is_object_not_found()
    {
        var store = new DirectoryObjectStore(_dir.Path);
        var missing = Obj("s3://rapid-pipeline-files/20250404/plans/ppid15_x.json");

        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Contract.ReadAsync<JobList>(store, missing));

        Assert.Equal(missing, e.Missing);
    }
}
