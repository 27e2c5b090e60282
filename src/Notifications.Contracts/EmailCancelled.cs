namespace Notifications.Contracts;

/// <summary>A scheduled job was cancelled (DELETE /api/emails/{id}) and dropped when it came due: nothing was sent.</summary>
/// <param name="JobId">the id the API answered with.</param>
/// <param name="CancelledAt">when the worker dropped it.</param>
/// <param name="Client">the client that sent it, when the API knows clients.</param>
/// <param name="Test">true for a test client's job (nothing was mailed); absent (null) for live mail.</param>
public sealed record EmailCancelled(string JobId, DateTimeOffset CancelledAt, string? Client = null, bool? Test = null);
