using Npgsql;
using Rapid.Functions.OpsDatabase;

namespace Rapid.Cdk.Tests.Support;

/// <summary>
/// What the deploy's schema migration does for the operations role, on a local database: login for rapid_ops with the
/// password the local secrets stand-in gives the template's operations secret (<c>local-{its logical id}</c>), so a
/// function started from its bundle with the template's environment connects as it would on AWS.
/// </summary>
public static class OperationsLogin
{
    public static async Task EnableAsync(SynthesizedStack stack, string ownerConnectionString)
    {
        var opsSecret = stack.Resources("AWS::SecretsManager::Secret").Single(s =>
            s.Resource["Properties"]!["GenerateSecretString"]?["SecretStringTemplate"]?.GetValue<string>() == """{"username":"rapid_ops"}""").Id;
        await using var owner = NpgsqlDataSource.Create(ownerConnectionString);
        await OpsRoles.EnableLoginAsync(owner, "rapid_ops", $"local-{opsSecret}");
    }
}
