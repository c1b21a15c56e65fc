namespace Rapid.Functions.Report.Html;

/// <summary>
/// A long table the page's script draws a page at a time (sortable, filterable) from a compressed data block.
/// Cells are numbers, strings, null, a link <c>[text, href]</c> or a list of links.
/// </summary>
/// <param name="ClassColumn">Index of a hidden column holding the row's CSS class ("bad", "suspect"; null for none).</param>
/// <param name="FlagsColumn">Index of a hidden column holding the indices of the row's cells to mark as outliers.</param>
internal sealed record DataTable(IReadOnlyList<DataColumn> Columns, IReadOnlyList<object?[]> Rows, int PageSize, int? ClassColumn = null, int? FlagsColumn = null)
{
    /// <summary>A finite number, else null (JSON has no NaN).</summary>
    public static object? Num(double? value) => value is double v && double.IsFinite(v) ? v : null;

    public static object[] Link(string text, string href) => [text, href];
}

/// <param name="Align">The cells' CSS class: "n" for numbers (right-aligned), "w" for long text (wide).</param>
/// <param name="Digits">Decimals a number is shown with (null: as is).</param>
internal sealed record DataColumn(string Title, string? Align = null, int? Digits = null, bool Hidden = false, string? TitleHint = null)
{
    public static DataColumn Number(string title, int? digits = null, string? hint = null) => new(title, "n", digits, TitleHint: hint);
    public static DataColumn HiddenColumn(string title) => new(title, Hidden: true);
}
