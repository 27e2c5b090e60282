using Notifications.Core.Clients;

namespace Notifications.Tests.Infrastructure;

/// <summary>The API client every pipeline configures, and keys for tests that need more than one.</summary>
public static class TestClients
{
    public const string Name = "tests";

    /// <summary>Made for this test run; never a key of any real deployment.</summary>
    public static readonly string Key = NewKey();

    public static string KeyHash => ClientRegistry.HashOf(Key);

    public static string NewKey() => "ntf_test_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
}
