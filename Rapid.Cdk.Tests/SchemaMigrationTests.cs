using System.Text.Json.Nodes;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class SchemaMigrationTests(DefaultStack stack)
{
    private const string MigrateHandler = "Rapid.Functions::Rapid.Functions.Lambda.MigrateHandler::Handle";

    private (string Id, JsonObject Resource) Schema() => stack.Resources(SchemaMigration.ResourceType).Single();

    private string MigrateFunctionId() => stack.Resources("AWS::Lambda::Function")
        .Single(f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == MigrateHandler).Id;

    private static List<string> DependsOn(JsonObject resource) => resource["DependsOn"] switch
    {
        JsonArray array => array.Select(d => d!.GetValue<string>()).ToList(),
        JsonValue single => [single.GetValue<string>()],
        _ => [],
    };

    [Fact]
    public void Is_a_plain_custom_resource_served_by_the_migrate_function()
    {
        var token = Schema().Resource["Properties"]!["ServiceToken"]!["Fn::GetAtt"]!.AsArray();
        Assert.Equal(MigrateFunctionId(), token[0]!.GetValue<string>());
        Assert.Equal("Arn", token[1]!.GetValue<string>());
        // No Provider framework: the handler answers CloudFormation itself.
        Assert.DoesNotContain(stack.Resources("AWS::Lambda::Function"),
            f => f.Resource["Properties"]!["Handler"]?.GetValue<string>() == "framework.onEvent");
    }

    [Fact]
    public void Properties_name_the_latest_migration_and_fingerprint_all_of_them()
    {
        var folder = Path.Combine(RepositoryRoot.Find(), SchemaMigration.MigrationsFolder);
        var files = SchemaMigration.MigrationFiles(folder);
        var props = Schema().Resource["Properties"]!;
        Assert.Equal(Path.GetFileName(files[^1]), props["LatestMigration"]!.GetValue<string>());
        Assert.StartsWith("V", props["LatestMigration"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{64}$", props["MigrationsSha256"]!.GetValue<string>());
        Assert.Equal(SchemaMigration.Fingerprint(files), props["MigrationsSha256"]!.GetValue<string>());
    }

    [Fact]
    public void Runs_after_the_database_its_proxy_and_the_proxy_target()
    {
        var dependsOn = DependsOn(Schema().Resource);
        Assert.Contains(stack.Resources("AWS::RDS::DBInstance").Single().Id, dependsOn);
        Assert.Contains(stack.Resources("AWS::RDS::DBProxy").Single().Id, dependsOn);
        Assert.Contains(stack.Resources("AWS::RDS::DBProxyTargetGroup").Single().Id, dependsOn);
    }

    [Fact]
    public void Workflow_schedule_and_the_queue_consumers_wait_for_the_schema()
    {
        var schemaId = Schema().Id;
        foreach (var type in new[] { "AWS::StepFunctions::StateMachine", "AWS::Scheduler::Schedule", "AWS::Lambda::EventSourceMapping" })
        {
            // Three state machines (nightly, prompt, diff); four event source mappings: streaming registration, the Batch state-change
            // events, the L2 arrivals and the ended executions.
            var resources = stack.Resources(type).ToList();
            Assert.Equal(type switch { "AWS::Lambda::EventSourceMapping" => 4, "AWS::StepFunctions::StateMachine" => 3, _ => 1 }, resources.Count);
            foreach (var (id, resource) in resources)
                Assert.True(DependsOn(resource).Contains(schemaId), $"{id} ({type}) does not depend on {schemaId}");
        }
    }

    [Fact]
    public void Fingerprint_changes_when_a_migration_is_added_or_edited()
    {
        var folder = Directory.CreateTempSubdirectory("rapid-migrations-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "V001__a.sql"), "create table a (x int);");
            var one = SchemaMigration.Fingerprint(SchemaMigration.MigrationFiles(folder.FullName));
            Assert.Equal(one, SchemaMigration.Fingerprint(SchemaMigration.MigrationFiles(folder.FullName)));

            File.WriteAllText(Path.Combine(folder.FullName, "V002__b.sql"), "create table b (x int);");
            var files = SchemaMigration.MigrationFiles(folder.FullName);
            Assert.Equal("V002__b.sql", Path.GetFileName(files[^1]));
            var two = SchemaMigration.Fingerprint(files);
            Assert.NotEqual(one, two);

            File.WriteAllText(Path.Combine(folder.FullName, "V002__b.sql"), "create table b (y int);");
            Assert.NotEqual(two, SchemaMigration.Fingerprint(SchemaMigration.MigrationFiles(folder.FullName)));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_missing_or_empty_migrations_folder_fails_the_synth_naming_it()
    {
        var folder = Directory.CreateTempSubdirectory("rapid-migrations-");
        try
        {
            var empty = Assert.Throws<InvalidDataException>(() => SchemaMigration.MigrationFiles(folder.FullName));
            Assert.Contains(folder.FullName, empty.Message);
            var missing = Path.Combine(folder.FullName, "absent");
            var absent = Assert.Throws<DirectoryNotFoundException>(() => SchemaMigration.MigrationFiles(missing));
            Assert.Contains(missing, absent.Message);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
