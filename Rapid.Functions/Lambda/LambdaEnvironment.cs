using Npgsql;
using Rapid.Core.Jobs;
using Rapid.Core.Storage;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Steps;

namespace Rapid.Functions.Lambda;

/// <summary>
/// What a handler reads from its environment (set by Rapid.Cdk's OperationsFunctions): buckets,
/// the object store, the operations time zone and the database endpoint. Read through a lookup
/// function so tests give their own values without touching the process environment.
/// </summary>
public sealed class LambdaEnvironment
{
    public const string DbHostVariable = "RAPID_DB_HOST";
    public const string DbPortVariable = "RAPID_DB_PORT";
    public const string DbNameVariable = "RAPID_DB_NAME";
    public const string DbSecretIdVariable = "RAPID_DB_SECRET_ID";
    /// <summary>Migrate only: the operations role's secret, whose password it sets (the others connect with it as RAPID_DB_SECRET_ID).</summary>
    public const string DbOpsSecretIdVariable = "RAPID_DB_OPS_SECRET_ID";
    /// <summary>A PEM file of the CA that signs the database's certificate; unset: the system's trust store (RDS Proxy's certificates chain to Amazon's roots there).</summary>
    public const string DbRootCertificateVariable = "RAPID_DB_ROOT_CERTIFICATE";
    /// <summary>The most jobs of one array job; larger plans are chunked (default: AWS Batch's limit).</summary>
    public const string MaxArraySizeVariable = "RAPID_MAX_ARRAY_SIZE";
    public const string TimeZoneVariable = "RAPID_TIME_ZONE";
    /// <summary>Side in pixels of the square tile grid reference images are co-added onto (default: PlanningOptions').</summary>
    public const string ReferenceGridVariable = "RAPID_REFERENCE_GRID";

    private readonly Func<string, string?> _lookup;
    private readonly Lazy<IObjectStore> _store;

    public LambdaEnvironment(Func<string, string?> lookup)
    {
        _lookup = lookup;
        // The directory store when RAPID_STORE_ROOT is set (tests, embedded), otherwise S3.
        _store = new Lazy<IObjectStore>(() => ObjectStores.FromEnvironment(Get));
    }

    /// <summary>A variable's value; unset and empty are the same.</summary>
    public string? Get(string name) => _lookup(name) is { Length: > 0 } value ? value : null;

    public string Require(string name) =>
        Get(name) ?? throw new InvalidOperationException($"environment variable {name} is not set");

    public string TimeZone => Get(TimeZoneVariable) ?? ProcessingDate.DefaultTimeZone;

    /// <summary>Hours an execution holds its processing date's run lease at most: the state machine's timeout (set by Rapid.Cdk).</summary>
    public const string RunLeaseHoursVariable = "RAPID_RUN_LEASE_HOURS";

    /// <summary>The default of <see cref="RunLeaseHoursVariable"/>: the state machine's timeout with the default stage timeout (4 x 12 h + 2 h).</summary>
    public const int DefaultRunLeaseHours = 50;

    public TimeSpan RunLeaseDuration =>
        Get(RunLeaseHoursVariable) is not { } text ? TimeSpan.FromHours(DefaultRunLeaseHours)
        : TryParseCount(text, out var hours) && hours > 0 ? TimeSpan.FromHours(hours)
        : throw new InvalidOperationException($"environment variable {RunLeaseHoursVariable} = '{text}' is not a number of hours");

    /// <summary>Fake sources per science image (0: none); unset means the default of <see cref="Core.Contracts.FakeSourcesConfig"/>.</summary>
    public const string FakeSourcesVariable = "RAPID_FAKE_SOURCES";

    /// <summary>The plan steps' options: the night's force flag, the reference grid, the fake sources and the array limit from the environment.</summary>
    public PlanningOptions Planning(bool force)
    {
        var options = new PlanningOptions { Force = force };
        if (Get(ReferenceGridVariable) is { } gridText)
        {
            if (!TryParseCount(gridText, out var grid) || grid < 64)
                throw new InvalidOperationException($"environment variable {ReferenceGridVariable} = '{gridText}' is not a grid size of at least 64 pixels");
            options = options with { TileNaxis1 = grid, TileNaxis2 = grid };
        }
        if (Get(FakeSourcesVariable) is { } fakesText)
        {
            if (!TryParseCount(fakesText, out var count))
                throw new InvalidOperationException($"environment variable {FakeSourcesVariable} = '{fakesText}' is not a count of fake sources");
            options = options with { FakeSources = count > 0 ? new Core.Contracts.FakeSourcesConfig { Count = count } : null };
        }
        if (Get(MaxArraySizeVariable) is { } limitText)
        {
            if (!TryParseCount(limitText, out var limit) || limit is < 2 or > JobListChunker.BatchMaxArraySize)
                throw new InvalidOperationException($"environment variable {MaxArraySizeVariable} = '{limitText}' is not an array size in 2..{JobListChunker.BatchMaxArraySize}");
            options = options with { MaxArraySize = limit };
        }
        return options;
    }

    /// <summary>
    /// The object URI (s3://pipeline-bucket/settings/NAME.json) of the settings profile the night's jobs run with; unset:
    /// the defaults. Deployed from the stack's settings-profile context key.
    /// </summary>
    public const string SettingsProfileVariable = "RAPID_SETTINGS_PROFILE";

    /// <summary><see cref="Planning"/> with the settings of the profile <see cref="SettingsProfileVariable"/> names, read from the store.</summary>
    public async Task<PlanningOptions> PlanningAsync(bool force, CancellationToken ct = default)
    {
        var (settings, profile) = await SettingsAsync(ct);
        return Planning(force) with { Pipeline = settings, SettingsProfile = profile };
    }

    /// <summary>
    /// The settings the stack's jobs run with: those of the profile <see cref="SettingsProfileVariable"/> names, read from the
    /// store, and its name; unset: the defaults, no name.
    /// </summary>
    public async Task<(Core.Contracts.PipelineSettings Settings, string? Profile)> SettingsAsync(CancellationToken ct = default)
    {
        if (Get(SettingsProfileVariable) is not { } uri) return (new Core.Contracts.PipelineSettings(), null);
        if (!ObjectRef.TryParse(uri, out var reference))
            throw new InvalidOperationException($"environment variable {SettingsProfileVariable} = '{uri}' is not an object URI (s3://bucket/key)");
        byte[] bytes;
        try { bytes = await Store.GetBytesAsync(reference!, ct); }
        catch (ObjectNotFoundException e) { throw new InvalidOperationException($"the settings profile {uri} ({SettingsProfileVariable}) does not exist", e); }
        var profile = Core.Contracts.SettingsProfile.Parse(bytes, uri);
        return (profile.Settings, profile.Name);
    }

    private static bool TryParseCount(string text, out int value) =>
        int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out value);

    public ObjectKeys Keys => new(Buckets.FromEnvironment(Get));

    public IObjectStore Store => _store.Value;

    /// <summary>The container's data source for the ops database (see <see cref="OpsDataSources"/>).</summary>
    public Task<NpgsqlDataSource> DataSourceAsync(CancellationToken ct = default) => OpsDataSources.GetAsync(this, ct);

    /// <summary>A full connection string (RAPID_DB: tests and embedded mode) instead of host + secret.</summary>
    public string? ConnectionString => Get(OpsDb.ConnectionVariable);
}
