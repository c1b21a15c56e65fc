namespace Rapid.Pipeline.Fits;

/// <summary>
/// A binary table HDU (FITS Standard 4.0, section 7.3) with scalar columns: 1D, 1E, 1J, 1K, 1I (and 1B on
/// reading) and fixed-width character columns nA. Columns are held whole, one array per column.
/// </summary>
public sealed class FitsTable
{
    private readonly List<FitsColumn> _columns = [];

    public FitsTable(string extName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(extName);
        FitsValueText.RequirePrintableAscii(extName, "the table name (EXTNAME)");
        ExtName = extName;
    }

    public string ExtName { get; }

    public int RowCount => _columns.Count == 0 ? 0 : _columns[0].Length;

    /// <summary>Keywords besides the structural ones (NAXISn, TFIELDS, TTYPEn, TFORMn, TUNITn are written from the columns).</summary>
    public FitsHeader Header { get; } = new();

    public IReadOnlyList<string> ColumnNames => _columns.Select(c => c.Name).ToList();

    internal IReadOnlyList<FitsColumn> Columns => _columns;

    public void AddColumn(string name, double[] values, string? unit = null) => Add(new FitsColumn(name, 'D', 1, unit, values));

    public void AddColumn(string name, float[] values, string? unit = null) => Add(new FitsColumn(name, 'E', 1, unit, values));

    public void AddColumn(string name, int[] values, string? unit = null) => Add(new FitsColumn(name, 'J', 1, unit, values));

    public void AddColumn(string name, long[] values, string? unit = null) => Add(new FitsColumn(name, 'K', 1, unit, values));

    public void AddColumn(string name, short[] values, string? unit = null) => Add(new FitsColumn(name, 'I', 1, unit, values));

    /// <summary>A character column of fixed width (bytes); values must be printable ASCII no longer than the width.</summary>
    public void AddColumn(string name, string[] values, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentNullException.ThrowIfNull(values);
        for (var i = 0; i < values.Length; i++)
        {
            var v = values[i] ?? throw new ArgumentException($"column {name} row {i} is null");
            FitsValueText.RequirePrintableAscii(v, $"column {name} row {i}");
            if (v.Length > width) throw new ArgumentException($"column {name} row {i} has {v.Length} characters, more than the width {width}");
        }
        Add(new FitsColumn(name, 'A', width, null, values));
    }

    public bool HasColumn(string name) => FindOrNull(name) is not null;

    /// <summary>Any numeric column as doubles, with TSCALn/TZEROn applied.</summary>
    public double[] GetDoubles(string name)
    {
        var c = Find(name);
        var (scale, zero) = (c.Scale, c.Zero);
        double[] result = c.Values switch
        {
            double[] d => [.. d],
            float[] f => f.Select(v => (double)v).ToArray(),
            int[] j => j.Select(v => (double)v).ToArray(),
            long[] k => k.Select(v => (double)v).ToArray(),
            short[] s => s.Select(v => (double)v).ToArray(),
            byte[] b => b.Select(v => (double)v).ToArray(),
            _ => throw new InvalidOperationException($"column {name} of table {ExtName} holds text (TFORM {c.Width}A), not numbers"),
        };
        if (scale != 1.0 || zero != 0.0)
        {
            for (var i = 0; i < result.Length; i++) result[i] = zero + scale * result[i];
        }
        return result;
    }

    /// <summary>An integer column as longs, with an integral TZEROn applied (e.g. unsigned columns).</summary>
    public long[] GetLongs(string name)
    {
        var c = Find(name);
        if (c.Scale != 1.0 || c.Zero != Math.Floor(c.Zero))
            throw new InvalidOperationException($"column {name} of table {ExtName} is scaled (TSCAL/TZERO); read it with GetDoubles");
        var zero = (long)c.Zero;
        long[] result = c.Values switch
        {
            int[] j => j.Select(v => (long)v).ToArray(),
            long[] k => [.. k],
            short[] s => s.Select(v => (long)v).ToArray(),
            byte[] b => b.Select(v => (long)v).ToArray(),
            _ => throw new InvalidOperationException($"column {name} of table {ExtName} does not hold integers (TFORM {c.TForm})"),
        };
        if (zero != 0)
        {
            for (var i = 0; i < result.Length; i++) result[i] += zero;
        }
        return result;
    }

    public string[] GetStrings(string name)
    {
        var c = Find(name);
        return c.Values is string[] s
            ? [.. s]
            : throw new InvalidOperationException($"column {name} of table {ExtName} does not hold text (TFORM {c.TForm})");
    }

    internal void Add(FitsColumn column)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column.Name);
        FitsValueText.RequirePrintableAscii(column.Name, "a column name");
        if (column.Unit is not null) FitsValueText.RequirePrintableAscii(column.Unit, $"the unit of column {column.Name}");
        if (FindOrNull(column.Name) is not null) throw new ArgumentException($"table {ExtName} already has a column {column.Name}");
        if (_columns.Count > 0 && column.Length != RowCount)
            throw new ArgumentException($"column {column.Name} has {column.Length} rows but table {ExtName} has {RowCount}");
        _columns.Add(column);
    }

    private FitsColumn Find(string name) =>
        FindOrNull(name) ?? throw new KeyNotFoundException($"table {ExtName} has no column {name} (columns: {string.Join(", ", ColumnNames)})");

    private FitsColumn? FindOrNull(string name) =>
        _columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>One scalar (or nA text) binary-table column. Type is the TFORM letter; Width is the repeat count.</summary>
internal sealed record FitsColumn(string Name, char Type, int Width, string? Unit, Array Values, double Scale = 1.0, double Zero = 0.0)
{
    public int Length => Values.Length;

    public string TForm => Type == 'A' ? $"{Width}A" : $"1{Type}";

    /// <summary>Bytes per row in the table.</summary>
    public int ByteWidth => Type switch
    {
        'A' or 'B' => Width,
        'I' => 2,
        'J' or 'E' => 4,
        'K' or 'D' => 8,
        _ => throw new InvalidOperationException($"unsupported TFORM {TForm}"),
    };
}
