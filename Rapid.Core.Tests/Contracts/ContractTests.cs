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
        Jid = 11, ProcDate = "20250404",
        Spec = new ReferenceImageSpec { Tile = Tile(), Inputs = [Image(1), Image(2), Image(3)] },
        Settings = NonDefaultSettings(),
    };

    /// <summary>ppid 15: a science image with a registered reference image and fake sources.</summary>
    public static JobConfig ScienceJob() => new()
    {
        Jid = 12, ProcDate = "20250404",
        Spec = new ScienceSpec
        {
            Science = Image(9),
            Tile = Tile(),
            Reference = new ReferenceSource
            {
                Rfid = 77, Version = 2,
                Image = Obj("s3://rapid-product-files/20250403/jid11/refimage.fits"),
                Coverage = Obj("s3://rapid-product-files/20250403/jid11/refimage_cov.fits"),
                Uncertainty = Obj("s3://rapid-product-files/20250403/jid11/refimage_uncert.fits"),
            },
            FakeSources = new FakeSourcesConfig { Count = 20, BrightMag = 21, FaintMag = 26, Seed = 77 },
        },
    };

    /// <summary>ppid 17: products of job 12 to stamp; FITS keywords are upper case and must stay so.</summary>
    public static JobConfig PostProcessingJob() => new()
    {
        Jid = 13, ProcDate = "20250404",
        Spec = new PostProcessingSpec
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

    /// <summary>ppid 18: the night's tables to merge.</summary>
    public static JobConfig NightRecoveryJob() => new()
    {
        Jid = 14, ProcDate = "20250404",
        Spec = new NightRecoverySpec
        {
            BinWidthMag = 0.5,
            Tables = [new RecoveryTableRef { Jid = 12, Rid = 9, Fid = 3, Filter = "F158", File = Obj("s3://rapid-product-files/20250404/jid13/injrecov.fits"), AreaDeg2 = 0.01, UnmatchedPositive = 2 }],
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

    /// <summary>A science manifest with every part of the envelope and of its outcome present.</summary>
    public static ProductManifest FullManifest() => new()
    {
        Jid = 12, Ppid = 15, ProcDate = "20250404", ExitCode = 32,
        Warnings = [new JobWarning(JobWarningKind.Psf, "psf: only 12 stars"), new JobWarning(JobWarningKind.FluxScale, "flux matching: scale assumed")],
        Started = new DateTimeOffset(2025, 4, 5, 6, 7, 8, 123, TimeSpan.Zero),
        Ended = new DateTimeOffset(2025, 4, 5, 6, 17, 8, 456, TimeSpan.Zero),
        Batch = new BatchRun { JobId = "a1b2c3:0", Attempt = 2, ArrayIndex = 0, ComputeEnvironment = "rapid-spot", JobQueue = "rapid-queue" },
        Host = new HostInfo { Name = "ip-10-0-1-2", ProcessorCount = 4 },
        Software = SoftwareInfo.Parse("1.2.3+0123456789abcdef0123456789abcdef01234567"),
        ConfigSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        Settings = NonDefaultSettings(),
        Resources = new JobResources { WallSeconds = 600.333, CpuSeconds = 1100.5, PeakMemoryBytes = 2_700_000_000 },
        Timeline =
        [
            new StepRecord("Resample", new DateTimeOffset(2025, 4, 5, 6, 7, 9, TimeSpan.Zero), new DateTimeOffset(2025, 4, 5, 6, 7, 21, 500, TimeSpan.Zero), 12.5, 20.25),
            new StepRecord("ZOGY", new DateTimeOffset(2025, 4, 5, 6, 7, 22, TimeSpan.Zero), new DateTimeOffset(2025, 4, 5, 6, 7, 52, 250, TimeSpan.Zero), 30.25, 55.5),
            new StepRecord("Resample", new DateTimeOffset(2025, 4, 5, 6, 8, 0, TimeSpan.Zero), new DateTimeOffset(2025, 4, 5, 6, 8, 1, TimeSpan.Zero), 1.0, 1.75),
        ],
        Products =
        [
            Product(ProductRoles.DifferenceImage, "s3://rapid-product-files/20250404/jid12/diffimage.fits"),
            Product(ProductRoles.DifferenceCatalog, "s3://rapid-product-files/20250404/jid12/sources.fits"),
            Product(ProductRoles.ReferenceImage, "s3://rapid-product-files/20250404/jid12/refimage.fits"),
        ],
        Outcome = new ScienceOutcome
        {
            CoaddedReference = new ReferenceImageResult
            {
                Field = 123456, Fid = 3, InputRids = [1, 2, 3], NFrames = 3, MjdObsMin = 60999.5, MjdObsMax = 61000.25,
                NPixNan = 10, NPixSat = 2, Cov5Percent = 1.5, MedianCoverage = 3, MedianPixelUncertainty = 0.125,
                ClippedMean = 0.5, ClippedSigma = 2.25, FwhmMedian = 1.75, NSources = 1234,
            },
            Difference = new DifferenceImageResult
            {
                Rid = 9, NSources = 40, NPositive = 25, NNegative = 15, ScaleFactor = 1.0625,
                DxRms = 0.05, DyRms = 0.06, DxMedian = -0.01, DyMedian = 0.02, BackgroundScience = 10.5,
                BackgroundReference = 9.5, FwhmScience = 1.8, FwhmReference = 1.7, CoverageMedian = 3, MaskedFraction = 0.125,
                CornersRaDec = [9.87, -44.25, 9.8, -44.3, 9.95, -44.3, 9.95, -44.2, 9.8, -44.2],
            },
            InjectionRecovery = new InjectionRecoveryResult
            {
                Seed = 77, BrightMag = 21, FaintMag = 26, MagLimit = 25, PsfFwhmPixels = 1.4, PsfSource = "model", MatchRadiusPixels = 1,
                Fakes = new RecoveryFigures { Injected = 20, Found = 12, Mag50 = 24.2, FluxBias = double.NaN },
                PositiveDetections = 25, UnmatchedPositive = 3, AreaDeg2 = 0.0048, FakesOnMaskedPixels = 1,
            },
        },
    };

    /// <summary>The outcome of each other pipeline.</summary>
    public static TheoryData<string> Outcomes => ["reference", "postproc", "nightrecovery"];

    private static ProductManifest ManifestWithOutcome(string name) => FullManifest() with
    {
        Ppid = name switch { "reference" => 12, "postproc" => 17, _ => 18 },
        Outcome = name switch
        {
            "reference" => new ReferenceImageOutcome { Reference = new ReferenceImageResult { Field = 5, Fid = 2, InputRids = [7, 8], NFrames = 2 } },
            "postproc" => new PostProcessingOutcome
            {
                SourceJid = 11,
                Stamped =
                [
                    new StampedProduct
                    {
                        Role = ProductRoles.ReferenceImage,
                        Source = Obj("s3://rapid-product-files/20250404/jid11/refimage.fits"),
                        File = Obj("s3://rapid-product-files/20250404/jid13/rapid_field123456_fid3_ppid12_v2_rfid77_refimage.fits"),
                        Checksum = FileChecksum.Of("stamped"u8.ToArray()),
                    },
                ],
            },
            _ => new NightRecoveryOutcome
            {
                Tables = 4,
                Filters =
                [
                    new NightRecoveryFigures
                    {
                        Fid = 2, Filter = "H158", Kind = "fake", Images = 4, Figures = new RecoveryFigures { Injected = 200, Found = 150, Mag50 = 24.1, Mag90 = 23.2 },
                        UnmatchedPositive = 3, AreaDeg2 = 0.02, FalsePositivesPerDeg2 = 150, Bins = [new CompletenessBinResult(23, 23.25, 10, 9, 0.9, 0.01)],
                    },
                ],
            },
        },
    };

    private static T RoundTrip<T>(T value) => Contract.Deserialize<T>(Contract.Serialize(value), "test");

    public static TheoryData<string> JobConfigs => ["reference", "science", "postproc", "nightrecovery"];

    private static JobConfig JobConfigNamed(string name) => name switch
    {
        "reference" => ReferenceJob(),
        "science" => ScienceJob(),
        "postproc" => PostProcessingJob(),
        _ => NightRecoveryJob(),
    };

    [Theory]
    [MemberData(nameof(JobConfigs))]
    public void Every_pipelines_spec_round_trips_as_its_own_type(string name)
    {
        var config = JobConfigNamed(name);

        var back = RoundTrip(config);

        Assert.Equivalent(config, back, strict: true);
        Assert.Equal(config.Spec.GetType(), back.Spec.GetType());
        Assert.Equal(Contract.Serialize(config), Contract.Serialize(back));
    }

    [Theory]
    [InlineData("reference", 12, "reference")]
    [InlineData("science", 15, "science")]
    [InlineData("postproc", 17, "postprocessing")]
    [InlineData("nightrecovery", 18, "nightrecovery")]
    public void The_spec_names_its_pipeline_and_the_ppid_follows_from_it(string name, int ppid, string pipeline)
    {
        using var doc = JsonDocument.Parse(Contract.Serialize(JobConfigNamed(name)));

        Assert.Equal(ppid, doc.RootElement.GetProperty("ppid").GetInt32());
        Assert.Equal(pipeline, doc.RootElement.GetProperty("spec").GetProperty("pipeline").GetString());
        Assert.Equal(["schemaVersion", "jid", "ppid"], doc.RootElement.EnumerateObject().Take(3).Select(p => p.Name));
    }

    [Fact]
    public void A_ppid_written_in_the_json_cannot_contradict_the_spec()
    {
        // The ppid is derived from the spec: a config saying 12 over a science spec is a science job.
        var json = Contract.Serialize(ScienceJob());
        var edited = Encoding.UTF8.GetString(json).Replace("\"ppid\": 15", "\"ppid\": 12", StringComparison.Ordinal);

        var back = Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(edited), "c.json");

        Assert.Equal(15, back.Ppid);
        Assert.IsType<ScienceSpec>(back.Spec);
    }

    [Fact]
    public void The_pipeline_discriminator_may_come_anywhere_in_the_spec()
    {
        var config = Contract.Deserialize<JobConfig>(
            """{"schemaVersion": 3, "jid": 1, "procDate": "20250404", "spec": {"sourceJid": 4, "sourcePpid": 15, "pipeline": "postprocessing"}}"""u8, "c.json");

        Assert.Equal((17, 4L), (config.Ppid, config.SpecAs<PostProcessingSpec>().SourceJid));
    }

    [Theory]
    [InlineData("""{"schemaVersion": 3, "jid": 1, "procDate": "20250404"}""", "spec")]
    [InlineData("""{"schemaVersion": 3, "jid": 1, "procDate": "20250404", "spec": {"sourceJid": 4, "sourcePpid": 15}}""", "")]
    [InlineData("""{"schemaVersion": 3, "jid": 1, "procDate": "20250404", "spec": {"pipeline": "alerts"}}""", "alerts")]
    [InlineData("""{"schemaVersion": 3, "jid": 1, "procDate": "20250404", "spec": {"pipeline": "science", "science": {"rid": 1, "file": "s3://b/k"}}}""", "reference")]
    public void A_spec_missing_unknown_or_incomplete_is_rejected_naming_the_source(string json, string named)
    {
        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(json), "s3://p/c.json"));

        Assert.StartsWith("s3://p/c.json: not a valid JobConfig", e.Message);
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void SpecAs_names_both_pipelines_when_the_spec_is_another_ones()
    {
        var e = Assert.Throws<InvalidDataException>(() => ScienceJob().SpecAs<ReferenceImageSpec>());

        Assert.Contains("ppid 15", e.Message);
        Assert.Contains(nameof(ReferenceImageSpec), e.Message);
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
    public void A_manifest_with_every_part_of_the_envelope_and_the_science_outcome_round_trips()
    {
        var manifest = FullManifest();

        var back = RoundTrip(manifest);

        Assert.Equivalent(manifest, back, strict: true);
        Assert.Equal(Contract.Serialize(manifest), Contract.Serialize(back));
        Assert.IsType<ScienceOutcome>(back.Outcome);
    }

    [Theory]
    [MemberData(nameof(Outcomes))]
    public void Every_pipelines_outcome_round_trips_as_its_own_type(string name)
    {
        var manifest = ManifestWithOutcome(name);

        var back = RoundTrip(manifest);

        Assert.Equivalent(manifest, back, strict: true);
        Assert.Equal(manifest.Outcome!.GetType(), back.Outcome!.GetType());
        Assert.Equal(manifest.Ppid, back.Outcome.Ppid);
    }

    [Fact]
    public void The_envelope_carries_what_the_other_steps_read_under_stable_names()
    {
        using var doc = JsonDocument.Parse(Contract.Serialize(FullManifest()));
        var root = doc.RootElement;

        Assert.Equal(["psf", "flux_scale"], root.GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("kind").GetString()));
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", root.GetProperty("software").GetProperty("gitCommit").GetString());
        Assert.Equal(2, root.GetProperty("batch").GetProperty("attempt").GetInt32());
        Assert.Equal("rapid-spot", root.GetProperty("batch").GetProperty("computeEnvironment").GetString());
        Assert.Equal(1100.5, root.GetProperty("resources").GetProperty("cpuSeconds").GetDouble());
        Assert.Equal(2_700_000_000, root.GetProperty("resources").GetProperty("peakMemoryBytes").GetInt64());
        Assert.Equal(4.5, root.GetProperty("settings").GetProperty("detectionThresholdSigma").GetDouble());
        var step = root.GetProperty("timeline")[1];
        Assert.Equal(("ZOGY", 30.25, 55.5), (step.GetProperty("name").GetString(), step.GetProperty("wallSeconds").GetDouble(), step.GetProperty("cpuSeconds").GetDouble()));
        Assert.Equal(new DateTimeOffset(2025, 4, 5, 6, 7, 22, TimeSpan.Zero), step.GetProperty("started").GetDateTimeOffset());
        Assert.Equal("science", root.GetProperty("outcome").GetProperty("pipeline").GetString());
    }

    [Fact]
    public void Every_warning_kind_has_a_name_and_an_unknown_kind_is_rejected()
    {
        foreach (var kind in Enum.GetValues<JobWarningKind>())
        {
            var name = JobWarningKinds.Name(kind);
            Assert.Matches("^[a-z_]+$", name);
            Assert.Equal(kind, RoundTrip(FullManifest() with { Warnings = [new JobWarning(kind, "x")] }).Warnings[0].Kind);
        }

        var json = Encoding.UTF8.GetString(Contract.Serialize(FullManifest())).Replace("\"flux_scale\"", "\"gremlins\"", StringComparison.Ordinal);
        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<ProductManifest>(Encoding.UTF8.GetBytes(json), "m.json"));
        Assert.StartsWith("m.json: not a valid ProductManifest", e.Message);
    }

    [Fact]
    public void Step_totals_sum_a_steps_runs_in_the_order_steps_first_started()
    {
        var totals = FullManifest().StepTotals();

        Assert.Equal([new StepTotal("Resample", 13.5, 22.0, 2), new StepTotal("ZOGY", 30.25, 55.5, 1)], totals);
    }

    [Theory]
    [InlineData("1.0.0+56fcf51d4e4671d15e204ddf7fbcecccad1b8dfe", "56fcf51d4e4671d15e204ddf7fbcecccad1b8dfe")]
    [InlineData("1.0.0+56fcf51d4e4671d15e204ddf7fbcecccad1b8dfe-dirty", "56fcf51d4e4671d15e204ddf7fbcecccad1b8dfe")]
    [InlineData("1.0.0", null)]
    [InlineData("1.0.0+local-build", null)]
    [InlineData("1.0.0+local-build-dirty", null)]
    public void The_git_commit_is_read_from_the_informational_version(string version, string? commit)
    {
        var info = SoftwareInfo.Parse(version);

        Assert.Equal((version, commit), (info.Version, info.GitCommit));
    }

    [Fact]
    public void A_minimal_failure_manifest_round_trips_without_an_outcome()
    {
        var manifest = new ProductManifest { Jid = 5, Ppid = 15, ProcDate = "20250404", ExitCode = 65, Reason = "science image missing" };

        var json = Encoding.UTF8.GetString(Contract.Serialize(manifest));
        var back = RoundTrip(manifest);

        Assert.Equivalent(manifest, back, strict: true);
        Assert.DoesNotContain("outcome", json);
        Assert.DoesNotContain("\"settings\"", json);
    }

    [Fact]
    public void Statistics_that_are_not_finite_survive_a_manifest_round_trip()
    {
        // A reference built from frames with no usable pixels has NaN statistics; writing the
        // manifest must not fail, or the job would be lost instead of reporting why.
        var science = (ScienceOutcome)FullManifest().Outcome!;
        var manifest = FullManifest() with
        {
            Outcome = science with { CoaddedReference = science.CoaddedReference! with { MedianCoverage = double.NaN, FwhmMedian = double.PositiveInfinity } },
        };

        var back = ((ScienceOutcome)RoundTrip(manifest).Outcome!).CoaddedReference!;

        Assert.True(double.IsNaN(back.MedianCoverage));
        Assert.Equal(double.PositiveInfinity, back.FwhmMedian);
    }

    [Fact]
    public void Object_refs_are_written_as_s3_uris()
    {
        using var doc = JsonDocument.Parse(Contract.Serialize(ScienceJob()));
        var spec = doc.RootElement.GetProperty("spec");

        Assert.Equal("s3://rapid-l2-files/Roman_TDS_simple_model_F158_9_7.fits.gz", spec.GetProperty("science").GetProperty("file").GetString());
        Assert.Equal("s3://rapid-product-files/20250403/jid11/refimage_cov.fits", spec.GetProperty("reference").GetProperty("coverage").GetString());

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

        var keywords = config.RootElement.GetProperty("spec").GetProperty("products")[0].GetProperty("keywords");
        Assert.Equal(["PID", "RFID", "RFIMVER"], keywords.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    /// <summary>Names of object properties, recursively, except the keys of the keyword dictionaries.</summary>
    private static IEnumerable<string> PropertyNames(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p =>
            p.Name is "keywords" ? [p.Name] : PropertyNames(p.Value).Prepend(p.Name)),
        JsonValueKind.Array => e.EnumerateArray().SelectMany(PropertyNames),
        _ => [],
    };

    [Fact]
    public void The_schema_version_is_written()
    {
        using var config = JsonDocument.Parse(Contract.Serialize(ReferenceJob()));
        using var manifest = JsonDocument.Parse(Contract.Serialize(FullManifest()));

        Assert.Equal((3, 3), (JobConfig.CurrentSchemaVersion, ProductManifest.CurrentSchemaVersion));
        Assert.Equal(JobConfig.CurrentSchemaVersion, config.RootElement.GetProperty("schemaVersion").GetInt32());
        Assert.Equal(ProductManifest.CurrentSchemaVersion, manifest.RootElement.GetProperty("schemaVersion").GetInt32());
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    public void An_unsupported_schema_version_is_rejected_naming_the_source_and_version(int version)
    {
        var config = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(
            Encoding.UTF8.GetBytes($$"""{"schemaVersion": {{version}}, "jid": 1, "ppid": 15, "procDate": "20250404"}"""), "s3://p/config.json"));
        var list = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobList>(
            Encoding.UTF8.GetBytes($$"""{"schemaVersion": {{version}}, "ppid": 15, "procDate": "20250404"}"""), "s3://p/list.json"));
        var manifest = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<ProductManifest>(
            Encoding.UTF8.GetBytes($$"""{"schemaVersion": {{version}}, "jid": 1, "ppid": 15, "procDate": "20250404", "exitCode": 0}"""), "s3://p/manifest.json"));

        Assert.Equal($"s3://p/config.json: JobConfig schema version {version} is not supported (expected 1 to 3)", config.Message);
        Assert.StartsWith("s3://p/list.json: JobList schema version " + version, list.Message);
        Assert.Equal($"s3://p/manifest.json: ProductManifest schema version {version} is not supported (expected 1 to 3)", manifest.Message);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("not json")]
    [InlineData("""{"schemaVersion": "three"}""")]
    [InlineData("""{"jid": "seven", "procDate": "20250404", "spec": {"pipeline": "nightrecovery"}}""")]
    [InlineData("""{"procDate": "20250404", "spec": {"pipeline": "nightrecovery"}}""")]
    [InlineData("""{"schemaVersion": 2, "jid": 1, "ppid": 15, "procDate": "20250404"}""")]
    public void Malformed_json_is_rejected_naming_the_source(string text)
    {
        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(text), "s3://p/20250404/jid1/job_config_jid1.json"));

        Assert.StartsWith("s3://p/20250404/jid1/job_config_jid1.json: ", e.Message);
    }

    [Fact]
    public void A_bad_object_uri_is_named_in_the_error()
    {
        var json = """{"jid": 1, "procDate": "20250404", "spec": {"pipeline": "science", "science": {"rid": 1, "file": "rapid-l2-files/a.fits"}, "reference": {}}}""";

        var e = Assert.Throws<InvalidDataException>(() => Contract.Deserialize<JobConfig>(Encoding.UTF8.GetBytes(json), "config.json"));

        Assert.Contains("'rapid-l2-files/a.fits'", e.Message);
    }

    [Theory]
    [InlineData("""{"jid": 1, "procDate": "20250404", "spec": {"pipeline": "science", "science": {"rid": 1, "file": null}, "reference": {}}}""")]
    [InlineData("""{"jid": 1, "procDate": null, "spec": {"pipeline": "nightrecovery"}}""")]
    [InlineData("""{"jid": 1, "procDate": "20250404", "spec": null}""")]
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

        Assert.StartsWith("s3://p/config.json: not a valid JobConfig", config.Message);
        Assert.StartsWith("s3://p/manifest.json: not a valid ProductManifest", manifest.Message);
    }

    [Fact]
    public void A_contract_without_a_schema_version_is_read_as_the_current_one()
    {
        var config = Contract.Deserialize<JobConfig>("""{"jid": 1, "procDate": "20250404", "spec": {"pipeline": "nightrecovery"}}"""u8, "c.json");

        Assert.Equal(JobConfig.CurrentSchemaVersion, config.SchemaVersion);
        Assert.Equal(new PipelineSettings(), config.Settings);
    }

    [Fact]
    public void Optional_properties_missing_from_the_json_keep_their_defaults()
    {
        var manifest = Contract.Deserialize<ProductManifest>(
            """{"jid": 1, "ppid": 15, "procDate": "20250404", "exitCode": 0, "outcome": {"pipeline": "science", "difference": {"rid": 3}, "coaddedReference": {"field": 1, "fid": 2}}}"""u8, "m.json");
        var config = Contract.Deserialize<JobConfig>(
            """{"jid": 1, "procDate": "20250404", "spec": {"pipeline": "science", "science": {"rid": 1, "file": "s3://b/k"}, "reference": {}}}"""u8, "c.json");
        var partialSettings = Contract.Deserialize<JobConfig>(
            """{"jid": 1, "procDate": "20250404", "spec": {"pipeline": "nightrecovery"}, "settings": {"defaultGain": 2.5}}"""u8, "c.json");
        var list = Contract.Deserialize<JobList>("""{"ppid": 15, "procDate": "20250404"}"""u8, "l.json");

        Assert.Equal(ProductManifest.CurrentSchemaVersion, manifest.SchemaVersion);
        Assert.Empty(manifest.Warnings);
        Assert.Empty(manifest.Products);
        Assert.Empty(manifest.Timeline);
        Assert.Equal(1, manifest.Batch.Attempt);
        Assert.Equal("", manifest.Software.Version);
        var science = Assert.IsType<ScienceOutcome>(manifest.Outcome);
        Assert.Equal(1.0, science.Difference.ScaleFactor);
        Assert.Empty(science.Difference.CornersRaDec);
        Assert.Empty(science.CoaddedReference!.InputRids);
        Assert.Equal(new PipelineSettings(), config.Settings);
        Assert.Equal("", config.SpecAs<ScienceSpec>().Science.Filter);
        Assert.Empty(config.SpecAs<ScienceSpec>().Reference.Inputs);
        Assert.Equal(0.25, partialSettings.SpecAs<NightRecoverySpec>().BinWidthMag);
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
