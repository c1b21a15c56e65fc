using Rapid.Cli.Commands;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary>The commands' answers to bad input: one line naming the problem, a non-zero exit, nothing written.</summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class CommandLineTests(EmbeddedDatabaseFixture fixture)
{
    [Theory]
    [InlineData("2028-09-08 00:00:00", "2028-09-07 00:00:00", "not after")]
    [InlineData("2028-09-07 00:00:00", "2028-09-07 00:00:00", "not after")]
    [InlineData("yesterday", "2028-09-07 00:00:00", "'yesterday'")]
    [InlineData("2028-09-07 00:00:00", "2028-13-45 00:00:00", "'2028-13-45 00:00:00'")]
    public async Task Run_rejects_a_bad_window_before_touching_anything(string start, string end, string named)
    {
        var home = TempHome();
        var (code, error) = await Invoke("run", "--start", start, "--end", end, "--home", home);
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains(named, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(home, "store")), "nothing may be written for a rejected window");
    }

    [Theory]
    [InlineData("--reference-mjd", "61100:61000", "--reference-mjd 61100:61000")]
    [InlineData("--reference-mjd", "soon", "--reference-mjd soon")]
    [InlineData("--superior-min-frames", "0", "--superior-min-frames 0")]
    [InlineData("--superior-min-coverage-gain", "0", "--superior-min-coverage-gain 0")]
    public async Task Run_rejects_bad_reference_options_before_touching_anything(string option, string value, string named)
    {
        var home = TempHome();
        var (code, error) = await Invoke("run", "--superior-references", option, value, "--home", home);
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains(named, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(home, "store")), "nothing may be written for a rejected option");
    }

    [Fact]
    public async Task Status_of_a_date_nothing_ran_on_names_the_date()
    {
        var db = await fixture.CreateDatabaseAsync();
        var (code, error) = await Invoke("status", "--procdate", "20250404", "--db", db, "--home", TempHome());
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains("20250404", error);
    }

    [Fact]
    public async Task Status_rejects_a_malformed_date()
    {
        var (code, error) = await Invoke("status", "--procdate", "2025-04-04", "--home", TempHome());
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains("'2025-04-04'", error);
    }

    [Fact]
    public async Task A_database_that_is_down_is_reported_in_one_line()
    {
        var (code, error) = await Invoke("db", "migrate", "--db", "Host=/nonexistent-socket-dir;Database=x;Username=x;Timeout=2", "--home", TempHome());
        Assert.Equal(CommandErrors.DatabaseUnavailable, code);
        Assert.Contains("not reachable", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task An_empty_window_says_there_is_nothing_to_do_and_succeeds()
    {
        var db = await fixture.CreateDatabaseAsync();
        var output = new StringWriter();
        var (code, _) = await Invoke(output, "run", "--start", "2030-01-01 00:00:00", "--end", "2030-01-02 00:00:00", "--db", db, "--home", TempHome());
        Assert.Equal(0, code);
        Assert.Contains("Nothing to do", output.ToString());
    }

    [Fact]
    public async Task Db_connection_string_prints_a_migrated_database_that_tools_can_open()
    {
        var db = await fixture.CreateDatabaseAsync();
        var output = new StringWriter();
        var (code, error) = await Invoke(output, "db", "connection-string", "--db", db, "--home", TempHome());

        Assert.True(code == 0, error);
        await using var conn = new Npgsql.NpgsqlConnection(output.ToString().Trim());
        await conn.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("select count(*) from pipelines", conn);
        Assert.True((long)(await command.ExecuteScalarAsync())! > 0);
    }

    private static string TempHome() => Path.Combine(Path.GetTempPath(), $"rapid-cmd-{Guid.NewGuid():N}"[..22]);

    private static Task<(int, string)> Invoke(params string[] args) => Invoke(new StringWriter(), args);

    private static async Task<(int Code, string Error)> Invoke(StringWriter output, params string[] args)
    {
        var error = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await RapidCommandLine.Create().Parse(args).InvokeAsync();
            return (code, error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
