using System.Text.Json.Serialization;

namespace Rapid.Core.Contracts;

/// <summary>Source-generated JSON for every contract (no reflection: trims and starts fast in Lambda).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(ObjectRefJsonConverter)])]
[JsonSerializable(typeof(JobConfig))]
[JsonSerializable(typeof(JobList))]
[JsonSerializable(typeof(PlanResult))]
[JsonSerializable(typeof(ProductManifest))]
public sealed partial class RapidJsonContext : JsonSerializerContext;
