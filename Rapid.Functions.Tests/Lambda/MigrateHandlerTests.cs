using System.Text.Json;
using Dapper;
using Npgsql;
using Rapid.Functions.Lambda;
using Rapid.Functions.OpsDatabase;
using Rapid.Functions.Tests.Support;

namespace Rapid.Functions.Tests.Lambda;

/// <summary>The custom resource handler against a fresh database, answering to a ResponseURL on 127.0.0.1.</summary>
[Collection(OpsDatabaseCollection.Name)]
public sealed class MigrateHandlerTests(OpsDatabaseFixture db)
{
    private static string Request(string type, Uri responseUrl) => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["RequestType"] = type,
        ["ServiceToken"] = "arn:aws:lambda:us-west-2:123456789012:function:Migrate",
        ["ResponseURL"] = new Uri(responseUrl, "cloudformation-response?X-Amz-Signature=abc").ToString(),
        ["StackId"] = "arn:aws:cloudformation:us-west-2:123456789012:stack/Rapid/guid",
        ["RequestId"] = "req-1",
        ["ResourceType"] = "Custom::RapidSchema",
        ["LogicalResourceId"] = "Schema",
    });

    private static (LoopbackHttpServer Server, Func<string, string?> Env) Setup(string connectionString) =>
        (LoopbackHttpServer.AnswerOnce(_ => (200, "")), name => name == OpsDb.ConnectionVariable ? connectionString : null);

    private static async Task<int> TablesAsync(string cs, string table)
    {
        await using var conn = new NpgsqlConnection(cs);
        return await conn.ExecuteScalarAsync<int>("select count(*) from information_schema.tables where table_name = @table", new { table });
    }

    [Fact]
    public async Task Create_migrates_the_database_and_puts_success_to_the_response_url()
    {
        var cs = await db.CreateDatabaseAsync("migrate_create", migrated: false);
        var (server, env) = Setup(cs);

        HandlerHost.Invoke(new MigrateHandler(env).Handle, Request("Create", server.Endpoint));

        var put = await server.Received;
        Assert.Equal(("PUT", "/cloudformation-response?X-Amz-Signature=abc"), (put.Method, put.Target));
        Assert.False(put.Headers.ContainsKey("Content-Type"));
        var response = JsonDocument.Parse(put.Body).RootElement;
        Assert.Equal("SUCCESS", response.GetProperty("Status").GetString());
        Assert.Equal(MigrateHandler.PhysicalResourceId, response.GetProperty("PhysicalResourceId").GetString());
        Assert.Equal(("req-1", "Schema"), (response.GetProperty("RequestId").GetString(), response.GetProperty("LogicalResourceId").GetString()));
        // Every embedded migration, applied to the empty database.
        Assert.Equal(string.Join(",", MigrationRunner.Embedded().Select(m => m.Version)), response.GetProperty("Data").GetProperty("Applied").GetString());
        Assert.Equal(1, await TablesAsync(cs, "jobs"));
    }

    [Fact]
    public async Task Delete_leaves_the_schema_and_data_in_place()
    {
        var cs = await db.CreateDatabaseAsync("migrate_delete");
        var (server, env) = Setup(cs);

        HandlerHost.Invoke(new MigrateHandler(env).Handle, Request("Delete", server.Endpoint));

        Assert.Equal("SUCCESS", JsonDocument.Parse((await server.Received).Body).RootElement.GetProperty("Status").GetString());
        Assert.Equal(1, await TablesAsync(cs, "jobs"));
    }

    [Fact]
    public async Task An_unreachable_database_is_reported_as_failed_to_cloudformation()
    {
        var cs = new NpgsqlConnectionStringBuilder(db.For("no_such_database")) { Pooling = false }.ConnectionString;
        var (server, env) = Setup(cs);

        HandlerHost.Invoke(new MigrateHandler(env).Handle, Request("Update", server.Endpoint));

        var response = JsonDocument.Parse((await server.Received).Body).RootElement;
        Assert.Equal("FAILED", response.GetProperty("Status").GetString());
        Assert.Contains("no_such_database", response.GetProperty("Reason").GetString());
    }
}
