using System.Text.Json.Serialization;

namespace Rapid.Core.Contracts;

/// <summary>
/// Source-generated JSON for every contract (no reflection: trims and starts fast in Lambda).
/// Reading is strict: a null or missing value where the contract has none (a non-nullable
/// property or record parameter) is an error, not a null that fails later.
/// Optional properties that have a default are <c>{ get; set; }</c>, not <c>init</c>: for a
/// missing init-only property the source generator passes default(T) and loses the
/// initializer (dotnet/runtime#84484), so a manifest without "warnings" would read as null.
/// NaN and infinities are written as "NaN"/"Infinity": statistics of an empty image are NaN,
/// and writing the manifest must not fail because of it. The pipeline discriminator of a spec or outcome may come
/// anywhere in its object (hand-written configs need not put it first).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    AllowOutOfOrderMetadataProperties = true,
    Converters = [typeof(ObjectRefJsonConverter)])]
[JsonSerializable(typeof(JobConfig))]
[JsonSerializable(typeof(JobList))]
[JsonSerializable(typeof(PlanResult))]
[JsonSerializable(typeof(ProductManifest))]
[JsonSerializable(typeof(Schema2.JobConfigV2))]
[JsonSerializable(typeof(Schema2.ProductManifestV2))]
[JsonSerializable(typeof(PipelineSettings))]
public sealed partial class RapidJsonContext : JsonSerializerContext;
