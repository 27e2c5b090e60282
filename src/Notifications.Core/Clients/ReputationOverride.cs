namespace Notifications.Core.Clients;

/// <summary><c>Clients:&lt;name&gt;:Reputation</c>: what differs for this client; <c>Enabled: false</c> turns the guard off for it.</summary>
public sealed class ReputationOverride
{
    public bool? Enabled { get; set; }
    public int? Window { get; set; }
    public int? MinSent { get; set; }
    public double? MaxBounceRate { get; set; }
    public double? MaxComplaintRate { get; set; }
}
