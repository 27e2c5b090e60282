using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Contract;

/// <summary>Source-generated JSON for the job: no reflection on the hot path.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(EmailJob))]
public sealed partial class JobJsonContext : JsonSerializerContext;
