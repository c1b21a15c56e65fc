using System.Data;
using System.Runtime.CompilerServices;
using Dapper;

namespace Rapid.Functions.OpsDatabase;

/// <summary>Dapper does not map DateOnly (our <c>procdate</c> columns); Npgsql does, so pass it through.</summary>
internal sealed class DateOnlyTypeHandler : SqlMapper.TypeHandler<DateOnly>
{
    public override void SetValue(IDbDataParameter parameter, DateOnly value)
    {
        parameter.DbType = DbType.Date;
        parameter.Value = value;
    }

    public override DateOnly Parse(object value) => value switch
    {
        DateOnly d => d,
        DateTime t => DateOnly.FromDateTime(t),
        _ => throw new DataException($"cannot read a date from a {value.GetType().Name}"),
    };

    // Registered when this assembly loads, so every caller of the steps gets it without a setup call.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => SqlMapper.AddTypeHandler(new DateOnlyTypeHandler());
}
