using System.Text;
using System.Text.Json;
using Rapid.Cli.AwsStandIns;

namespace Rapid.Cli.Tests.AwsStandIns;

public sealed class LambdaHandlerInvokerTests
{
    private const string ResolveWindow = "Rapid.Functions::Rapid.Functions.Lambda.ResolveWindowHandler::Handle";

    private static JsonElement Invoke(string handler, string payload)
    {
        using var response = new LambdaHandlerInvoker(handler).Invoke(new MemoryStream(Encoding.UTF8.GetBytes(payload)));
        return JsonDocument.Parse(response).RootElement.Clone();
    }

    [Fact]
    public void A_handler_named_as_the_template_names_it_is_called_with_the_payload()
    {
        // ReleaseNight of a night without a lease answers without a database.
        var answer = Invoke("Rapid.Functions::Rapid.Functions.Lambda.ReleaseNightHandler::Handle",
            """{"startDateTime": "2028-09-07 00:00:00", "endDateTime": "2028-09-08 08:30:00", "procDate": "20280907"}""");

        Assert.False(answer.GetProperty("released").GetBoolean());
    }

    [Fact]
    public void A_handler_exception_comes_back_as_itself_and_as_the_runtime_error_document()
    {
        var e = Assert.Throws<InvalidDataException>(() => Invoke(ResolveWindow, """{"windowStart": "2028-09-07 00:00:00"}"""));

        var document = LambdaHandlerInvoker.ErrorDocument(e);
        Assert.Equal("InvalidDataException", document["errorType"]!.GetValue<string>());
        Assert.Contains("windowStart", document["errorMessage"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("ResolveWindowHandler", "is not of the form")]
    [InlineData("Rapid.Nowhere::Rapid.Functions.Lambda.ResolveWindowHandler::Handle", "assembly Rapid.Nowhere")]
    [InlineData("Rapid.Functions::Rapid.Functions.Lambda.NoSuchHandler::Handle", "no type Rapid.Functions.Lambda.NoSuchHandler")]
    [InlineData("Rapid.Functions::Rapid.Functions.Lambda.ResolveWindowHandler::Run", "no public Stream Run(Stream)")]
    public void A_handler_string_that_the_runtime_could_not_load_is_refused_naming_the_part(string handler, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new LambdaHandlerInvoker(handler));
        Assert.Contains(message, e.Message);
    }
}
