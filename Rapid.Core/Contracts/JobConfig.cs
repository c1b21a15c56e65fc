using System.Text.Json.Serialization;

namespace Rapid.Core.Contracts;

/// <summary>
/// What one pipeline job is asked to do: written by a plan step to the pipeline bucket, read by the job (which never
/// touches the database). The envelope is common to every pipeline; <see cref="Spec"/> is the typed input of the
/// job's pipeline, and <see cref="Ppid"/> follows from it.
/// Schema 3 replaced schema 2's five optional per-pipeline sections with <see cref="Spec"/>; schema 1 and 2 configs
/// still read, through <see cref="Schema2.JobConfigV2"/>.
/// </summary>
public sealed record JobConfig
{
    public const int CurrentSchemaVersion = 3;
    /// <summary>The oldest schema this code still reads.</summary>
    public const int MinSupportedSchemaVersion = 1;

    [JsonPropertyOrder(-3)]
    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    [JsonPropertyOrder(-2)]
    public required long Jid { get; init; }

    /// <summary>The pipeline, from <see cref="Spec"/> (written for readers of the JSON; ignored when read).</summary>
    [JsonPropertyOrder(-1)]
    public int Ppid => Spec.Ppid;

    /// <summary>Processing date, yyyyMMdd.</summary>
    public required string ProcDate { get; init; }

    public required JobSpec Spec { get; init; }

    /// <summary>The pipeline settings the job runs with (recorded again in its manifest).</summary>
    public PipelineSettings Settings { get; set; } = new();

    /// <summary>The name of the settings profile <see cref="Settings"/> came from; null for the defaults or settings given one by one.</summary>
    public string? SettingsProfile { get; set; }

    /// <summary><see cref="PipelineSettings.Hash"/> of <see cref="Settings"/> (written for readers of the JSON and product headers; ignored when read).</summary>
    public string SettingsHash => Settings.Hash();

    /// <summary>The spec as pipeline <typeparamref name="T"/> reads it; an <see cref="InvalidDataException"/> naming both when it is another pipeline's.</summary>
    public T SpecAs<T>() where T : JobSpec =>
        Spec as T ?? throw new InvalidDataException(
            $"job {Jid}: the config's spec is for {Pipelines.PipelineIds.Describe(Spec.Ppid)} (ppid {Spec.Ppid}), not {typeof(T).Name}");
}
