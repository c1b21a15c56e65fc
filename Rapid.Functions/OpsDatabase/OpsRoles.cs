using Npgsql;

namespace Rapid.Functions.OpsDatabase;

/// <summary>
/// The database roles the migrations create (V006__database_roles): <see cref="Operations"/>, what
/// the operations steps run as (rows of the ops tables, no DDL, no superuser), and
/// <see cref="ReadOnly"/>, for scientists. The owner of the schema only migrates.
/// </summary>
public static class OpsRoles
{
    public const string Operations = "rapid_ops";
    public const string ReadOnly = "rapid_readonly";

    /// <summary>
    /// The connection string of a session that logs in as the owner and at once becomes
    /// <paramref name="role"/> (the server's startup option <c>role</c>, as <c>SET ROLE</c>): embedded
    /// mode's way to run the steps with the operations role's privileges without a password of its own.
    /// </summary>
    public static string SwitchTo(string connectionString, string role)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options = $"{builder.Options} -c role={role}".Trim();
        return builder.ConnectionString;
    }

    /// <summary>
    /// Lets <paramref name="username"/> log in with <paramref name="password"/> (the deploy's operations
    /// secret). The password travels as a bound parameter into a transaction-local setting and is
    /// used from there, so no statement text (server logs, pg_stat_statements) ever holds it.
    /// </summary>
    public static async Task EnableLoginAsync(NpgsqlDataSource owner, string username, string password, CancellationToken ct = default)
    {
        if (username != Operations)
            throw new InvalidDataException($"the operations secret names the user '{username}'; the migrations make '{Operations}'");
        await using var conn = await owner.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var set = new NpgsqlCommand("select set_config('rapid.login_role', $1, true), set_config('rapid.login_password', $2, true)", conn, tx))
        {
            set.Parameters.AddWithValue(username);
            set.Parameters.AddWithValue(password);
            await set.ExecuteNonQueryAsync(ct);
        }
        await using (var alter = new NpgsqlCommand(
            "do $$ begin execute format('alter role %I with login password %L', current_setting('rapid.login_role'), current_setting('rapid.login_password')); end $$",
            conn, tx))
            await alter.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }
}
