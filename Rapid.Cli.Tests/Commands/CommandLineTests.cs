using Rapid.Cli.Commands;
using Rapid.Cli.Tests.Support;

namespace Rapid.Cli.Tests.Commands;

/// <summary>The commands' answers to bad input: one line naming the problem, a non-zero exit, nothing written.</summary>
[Collection(EmbeddedDatabaseCollection.Name)]
public sealed class CommandLineTests(EmbeddedDatabaseFixture fixture)
{
    [Theory]
    [InlineData("2028-09-08 00:00:00", "2028-09-07 00:00:00", "--end '2028-09-07 00:00:00' is not after --start")]
    [InlineData("2028-09-07 00:00:00", "2028-09-07 00:00:00", "is not after --start")]
    [InlineData("yesterday", "2028-09-07 00:00:00", "--start time 'yesterday'")]
    [InlineData("2028-09-07 00:00:00", "2028-13-45 00:00:00", "--end time '2028-13-45 00:00:00'")]
    public async Task Run_rejects_a_bad_window_before_touching_anything(string start, string end, string named)
    {
        var home = TempHome();
        var (code, error) = await Invoke("run", "--start", start, "--end", end, "--home", home);
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains(named, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.DoesNotContain("DateTime", error); // the options the user typed, not the execution input's JSON fields
        Assert.False(Directory.Exists(Path.Combine(home, "store")), "nothing may be written for a rejected window");
    }

    [Fact]
    public async Task Run_names_the_missing_option_of_a_half_given_window()
    {
        var (code, error) = await Invoke("run", "--start", "2028-09-07 00:00:00", "--home", TempHome());
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains("--end is missing: give both --start and --end", error);
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
        var home = TempHome();
        Directory.CreateDirectory(home);
        var (code, error) = await Invoke("status", "--procdate", "2025-04-04", "--home", home);
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
        var home = Directory.CreateDirectory(TempHome()).FullName;
        var (code, _) = await Invoke(output, "run", "--start", "2030-01-01 00:00:00", "--end", "2030-01-02 00:00:00", "--db", db, "--home", home);
        Assert.Equal(0, code);
        Assert.Contains("Nothing to do: no L2 images observed in the window [2030-01-01 00:00:00, 2030-01-02 00:00:00)", output.ToString());
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

    [Theory]
    [InlineData(new[] { "run", "--strat", "2028-09-07 00:00:00", "--end", "2028-09-08 00:00:00" }, "did you mean '--start'? '--strat' is not an option of 'rapid run'")]
    [InlineData(new[] { "rnu" }, "did you mean 'run'? 'rnu' is not an argument of 'rapid'")]
    [InlineData(new[] { "db", "migarte" }, "did you mean 'migrate'?")]
    [InlineData(new[] { "bench", "ops", "--jobs", "many" }, "'many'")]
    public async Task A_parse_error_is_one_line_with_the_suggestion_first_and_exit_2(string[] args, string expected)
    {
        var output = new StringWriter();
        var (code, error) = await Invoke(output, args);

        Assert.Equal(CommandErrors.BadInput, code);
        Assert.StartsWith("rapid: ", error);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal("", output.ToString()); // no help text dumped
    }

    [Theory]
    [InlineData("run", "--start", "2028-09-07 00:00:00", "--end", "2028-09-08 00:00:00")]
    [InlineData("run")]
    [InlineData("status", "--procdate", "20280908")]
    [InlineData("db", "stop")]
    [InlineData("db", "lock", "DifferenceImage", "1")]
    public async Task A_mistyped_home_is_named_and_no_new_cluster_is_made(params string[] args)
    {
        var home = TempHome();
        var (code, error) = await Invoke([.. args, "--home", home]);

        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains(home, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(home), "a mistyped --home must not be created");
    }

    [Fact]
    public async Task Processing_dates_outside_the_sane_range_are_refused_before_anything_starts()
    {
        var home = TempHome();
        var (code, error) = await Invoke("run", "--procdate", "00010101", "--start", "2028-09-07 00:00:00", "--end", "2028-09-08 00:00:00", "--home", home);
        Assert.Equal(CommandErrors.BadInput, code);
        Assert.Contains("outside 19900101..21991231", error);
        Assert.False(Directory.Exists(home));
    }

    [Fact]
    public async Task A_cluster_pg_ctl_cannot_start_is_an_infrastructure_failure_not_bad_input()
    {
        // A home whose cluster directory PostgreSQL refuses (PG_VERSION of no installed major version).
        var home = Directory.CreateDirectory(TempHome()).FullName;
        var pgdata = Directory.CreateDirectory(Path.Combine(home, "pg", "pgdata")).FullName;
        await File.WriteAllTextAsync(Path.Combine(pgdata, "PG_VERSION"), "7\n");

        var (code, error) = await Invoke("db", "migrate", "--home", home);

        Assert.Equal(CommandErrors.Infrastructure, code);
        Assert.Contains("pg_ctl start failed", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_second_run_of_a_processing_date_stops_at_once_naming_the_run_that_holds_it()
    {
        var db = await fixture.CreateDatabaseAsync();
        var home = Directory.CreateDirectory(TempHome()).FullName;
        await using (var dataSource = await new Embedded.RapidHome(home).OpenDatabaseAsync(db)) { } // migrated
        await using var holder = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(db) { Pooling = false }.ConnectionString);
        await holder.OpenAsync();
        await using (var tx = await holder.BeginTransactionAsync())
        {
            await Functions.OpsDatabase.RunLeases.TakeAsync(holder, tx, Core.Jobs.ProcessingDate.Parse("20280908"), "rapid run (pid 4242 on ops1)", ttl: null);
            await tx.CommitAsync();
        }

        var (code, error) = await Invoke("run", "--start", "2028-09-07 00:00:00", "--end", "2028-09-08 00:00:00", "--procdate", "20280908", "--db", db, "--home", home);

        Assert.Equal(CommandErrors.RunInProgress, code);
        Assert.Contains("rapid run (pid 4242 on ops1)", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    private static string TempHome() => Path.Combine(Path.GetTempPath(), $"rapid-cmd-{Guid.NewGuid():N}"[..22]);

    private static Task<(int Code, string Error)> Invoke(params string[] args) => Invoke(new StringWriter(), args);

    private static async Task<(int Code, string Error)> Invoke(StringWriter output, params string[] args)
    {
        var error = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = await RapidCommandLine.InvokeAsync(args);
            return (code, error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
