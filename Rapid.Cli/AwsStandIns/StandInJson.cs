using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rapid.Cli.AwsStandIns;

/// <summary>How the stand-ins write JSON: as the services do, so a Cause that holds a JSON document stays readable (no \u0022).</summary>
public static class StandInJson
{
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
