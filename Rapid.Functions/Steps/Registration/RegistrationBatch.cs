using System.Data;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;

namespace Rapid.Functions.Steps.Registration;

/// <summary>
/// Statements sent to PostgreSQL as one command: one round trip (at thousands of manifests a night, round trips are the
/// cost) inside the batch's transaction. Each registrar adds its statements with parameter names of its own. The
/// statements of many manifests go in one command, each manifest's under its own <see cref="For"/> scope, which gives
/// its parameter names a suffix of their own, so the same statements with another manifest's values do not collide.
/// </summary>
internal sealed partial class RegistrationBatch
{
    private readonly StringBuilder _sql = new();
    private string? _suffix;

    public DynamicParameters Args { get; } = new();

    public string Sql => _sql.ToString();

    public bool IsEmpty => _sql.Length == 0;

    private object? _common;

    /// <summary>
    /// Statements added from here on belong to manifest <paramref name="manifest"/> of the command (its parameters renamed);
    /// <paramref name="common"/>, the values every manifest's statements may name (its job id, ppid, ...), is bound with the
    /// scope's first statement, so a manifest with no statements of its own sends none.
    /// </summary>
    public RegistrationBatch For(int manifest, object? common = null)
    {
        _suffix = $"_m{manifest}";
        _common = common;
        return this;
    }

    public RegistrationBatch Add(string sql, object? args = null)
    {
        if (_common is { } common)
        {
            _common = null;
            Bind(common);
        }
        var text = sql.TrimEnd();
        if (_suffix is { } suffix) text = Parameter().Replace(text, m => m.Value + suffix);
        _sql.Append(text).Append(text.EndsWith(';') ? "\n" : ";\n");
        if (args is not null) Bind(args);
        return this;
    }

    private void Bind(object args)
    {
        if (_suffix is null) Args.AddDynamicParams(args);
        else
            foreach (var property in args.GetType().GetProperties())
            {
                // As Dapper types a template's properties: by the value, or, for a null, by the property's type.
                var value = property.GetValue(args);
                Args.Add(property.Name + _suffix, value, value is null ? NullType(property) : null);
            }
    }

    private static DbType NullType(System.Reflection.PropertyInfo property) =>
        (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) switch
        {
            var t when t == typeof(string) => DbType.String,
            var t when t == typeof(long) => DbType.Int64,
            var t when t == typeof(int) => DbType.Int32,
            var t when t == typeof(short) => DbType.Int16,
            var t when t == typeof(double) => DbType.Double,
            var t when t == typeof(bool) => DbType.Boolean,
            var t when t == typeof(DateTimeOffset) => DbType.DateTimeOffset,
            var t => throw new InvalidOperationException($"registration parameter {property.Name}: no database type for a null {t.Name}"),
        };

    /// <summary>A parameter reference (<c>@name</c>), not an operator that starts with @.</summary>
    [GeneratedRegex(@"(?<![\w@])@[A-Za-z_]\w*")]
    private static partial Regex Parameter();
}
