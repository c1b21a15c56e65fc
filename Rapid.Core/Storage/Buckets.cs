namespace Rapid.Core.Storage;

/// <summary>
/// The buckets Rapid uses: L2 inputs, pipeline files (job configs and job lists), products
/// and logs. Names come from the environment (as Batch and Lambda set them) or the defaults.
/// </summary>
public sealed record Buckets(string Data, string Pipeline, string Products, string Logs)
{
    public const string DataVariable = "RAPID_DATA_BUCKET";
    public const string PipelineVariable = "RAPID_PIPELINE_BUCKET";
    public const string ProductsVariable = "RAPID_PRODUCTS_BUCKET";
    public const string LogsVariable = "RAPID_LOGS_BUCKET";

    public static Buckets Default { get; } = new("rapid-l2-files", "rapid-pipeline-files", "rapid-product-files", "rapid-pipeline-logs");

    public static Buckets FromEnvironment(Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        return new Buckets(
            lookup(DataVariable) ?? Default.Data,
            lookup(PipelineVariable) ?? Default.Pipeline,
            lookup(ProductsVariable) ?? Default.Products,
            lookup(LogsVariable) ?? Default.Logs);
    }

    public IEnumerable<KeyValuePair<string, string>> AsEnvironment() =>
    [
        new(DataVariable, Data), new(PipelineVariable, Pipeline),
        new(ProductsVariable, Products), new(LogsVariable, Logs),
    ];
}
