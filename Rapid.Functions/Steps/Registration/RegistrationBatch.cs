using System.Text;
using Dapper;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// The statements that register one manifest, sent to PostgreSQL as one batch: one round trip (at thousands of
/// manifests a night, round trips are the cost) and one implicit transaction, so a statement that fails, or
/// <c>begin_registration</c> raising, rolls the whole manifest back. Each registrar adds its statements with
/// parameter names of its own.
/// </summary>
internal sealed class RegistrationBatch
{
    private readonly StringBuilder _sql = new();

    public DynamicParameters Args { get; } = new();

    public string Sql => _sql.ToString();

    public bool IsEmpty => _sql.Length == 0;

    public RegistrationBatch Add(string sql, object? args = null)
    {
        _sql.Append(sql.TrimEnd()).Append(sql.TrimEnd().EndsWith(';') ? "\n" : ";\n");
        if (args is not null) Args.AddDynamicParams(args);
        return this;
    }
}
