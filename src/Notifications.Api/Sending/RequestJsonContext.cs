using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Api.Sending;

/// <summary>
/// Reading a request: an unknown field (<c>id</c> and <c>createdAt</c> are the service's) or a field given twice is a 400;
/// a repeated <c>"to"</c> would otherwise let its last value slip past whatever checked the first.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(SendEmailRequest))]
public sealed partial class RequestJsonContext : JsonSerializerContext;
