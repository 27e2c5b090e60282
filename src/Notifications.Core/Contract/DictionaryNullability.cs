namespace Notifications.Core.Contract;

internal static class DictionaryNullability
{
    /// <summary>The same dictionary, seen as one whose values may be null (IReadOnlyDictionary is not covariant).</summary>
    public static IReadOnlyDictionary<string, string?> AsNullableValues(this IReadOnlyDictionary<string, string> values) =>
        (IReadOnlyDictionary<string, string?>)values;
}
