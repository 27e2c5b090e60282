namespace Notifications.Contracts;

/// <summary>
/// A recipient's server refused the mail for good after the relay had accepted it: a delivery status notification (RFC
/// 3464) came back with <c>Action: failed</c> and a 5.x.x status. The address is on the suppression list now.
/// </summary>
/// <param name="JobId">the job the bounce names (by its return path, its envelope id or its Message-ID).</param>
/// <param name="Recipient">the address that bounced.</param>
/// <param name="Status">the enhanced status code, e.g. 5.1.1.</param>
/// <param name="Diagnostic">the remote server's reply, one line, when the report gave it.</param>
/// <param name="ReportingMta">the server that wrote the report, when it said.</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailBounced(string JobId, string Recipient, string Status, string? Diagnostic, DateTimeOffset BouncedAt,
    string? Client = null, string? ReportingMta = null, bool? Test = null);
