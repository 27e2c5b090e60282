namespace Notifications.Core.Unsubscribing;

/// <summary>What an unsubscribe token stands for: an address on one client's list.</summary>
public sealed record ListMembership(string? Client, string List, string Address);
