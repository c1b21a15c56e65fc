using System.Net;
using System.Text.Json;
using Rapid.Core.Storage;

namespace Rapid.Functions.Lambda;

/// <summary>S3 event notifications delivered through SQS: each message body is one notification, its records the objects.</summary>
internal static class S3EventMessages
{
    /// <summary>The objects a message's notification names (none for S3's <c>s3:TestEvent</c>); a body that is not a notification is bad input.</summary>
    public static IReadOnlyList<ObjectRef> ObjectsIn(SqsMessage message)
    {
        S3Event notification;
        try
        {
            notification = JsonSerializer.Deserialize(message.Body, LambdaJsonContext.Default.S3Event)
                ?? throw new InvalidDataException("message body is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"message body is not an S3 event notification: {e.Message}", e);
        }
        // S3 sends keys form-URL-encoded ("a b" as "a+b", "=" as "%3D").
        return (notification.Records ?? [])
            .Select(r => new ObjectRef(r.S3.Bucket.Name, WebUtility.UrlDecode(r.S3.Object.Key)))
            .ToList();
    }
}
