using System.Text.Json;
using System.Text.Json.Serialization;

namespace Notifications.Core.Contract;

/// <summary>
/// Source-generated JSON for the job: no reflection on the hot path. Strict on reading: an unknown
/// field, a repeated one (which would let a later value replace a checked one) or a null where the
/// contract needs a value is not a job.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(EmailJob))]
public sealed partial class JobJsonContext : JsonSerializerContext;
