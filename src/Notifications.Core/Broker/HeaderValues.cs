using System.Globalization;
using System.Text;

namespace Notifications.Core.Broker;

/// <summary>Reads AMQP header values, which arrive as byte[] for strings and as assorted integer types.</summary>
public static class HeaderValues
{
    public static string? GetString(IDictionary<string, object?>? headers, string name) =>
        headers is not null && headers.TryGetValue(name, out var value) ? AsString(value) : null;

    public static int GetInt(IDictionary<string, object?>? headers, string name, int fallback = 0)
    {
        if (headers is null || !headers.TryGetValue(name, out var value))
            return fallback;
        return value switch
        {
            int i => i,
            long l => (int)Math.Clamp(l, int.MinValue, int.MaxValue),
            short s => s,
            byte b => b,
            sbyte sb => sb,
            uint ui => (int)Math.Min(ui, int.MaxValue),
            ushort us => us,
            _ => int.TryParse(AsString(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : fallback,
        };
    }

    public static string? AsString(object? value) => value switch
    {
        null => null,
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
