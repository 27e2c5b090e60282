using System.Globalization;
using Notifications.Core.Contract;

namespace Notifications.Dlq.Cli;

/// <summary>The parsed command line of <c>dlq</c> (<see cref="DlqCommandLine"/> parses it).</summary>
public sealed record DlqArguments
{
    public const string Usage = """
        usage:
          dlq list    [--limit N] [--group] [--json]
          dlq show    <id> [--json]
          dlq replay  <id>... | --all [--kind transient|permanent|poison|delivery-limit] | --group KEY | --from FILE.jsonl  [--dry-run]
          dlq delete  <id>... | --all [--yes]
          dlq export  [--out FILE.jsonl]
          dlq reindex                         rebuild the console's index of email.dead from the queue
          dlq suppressions list [--limit N] [--source bounce|manual|unsubscribe|complaint] [--json]
          dlq suppressions add <address> --reason TEXT
          dlq suppressions remove <address>...
          dlq clients [--json]
          dlq clients resume <client>
        options for every command:
          --uri amqp://user:pass@host:5672/   broker (default: RabbitMq:Uri from appsettings.json / RabbitMq__Uri)
          --prefix NAME                       RabbitMq:Prefix of the deployment
          --queue email.dead|webhook.dead|email.inbound.unparsed
                                              the queue to work on (default email.dead); email.inbound.unparsed holds
                                              what came back and could not be read (replay reads it again)
          (suppressions and clients use the job store, Store:* settings, not the broker)
        exit codes: 0 done, 1 failure, 2 usage error, 3 an id (or address) was not found
        """;

    public required string Verb { get; init; }
    public IReadOnlyList<string> Ids { get; init; } = [];
    public bool All { get; init; }
    public bool Json { get; init; }
    public bool Group { get; init; }
    public string? GroupKey { get; init; }
    public FailureKind? Kind { get; init; }
    public bool DryRun { get; init; }
    public bool Yes { get; init; }
    public int? Limit { get; init; }
    public string? From { get; init; }
    public string? Out { get; init; }
    public string? Uri { get; init; }
    public string? Prefix { get; init; }

    /// <summary><c>--queue</c>: the dead jobs (default), the dead webhooks, or the inbound messages nobody could read.</summary>
    public DlqQueue Queue { get; init; }

    /// <summary>For <c>suppressions</c>: list, add or remove; for <c>clients</c>: list or resume.</summary>
    public string? Action { get; init; }
    public string? Reason { get; init; }
    public string? Source { get; init; }

    /// <summary>The rules that span options: what goes with what, one selector for a replay or a delete.</summary>
    internal static void Check(DlqArguments a)
    {
        if (a.Verb == "suppressions")
        {
            CheckSuppressions(a);
            return;
        }
        if (a.Verb == "clients")
        {
            if (a.All || a.Group || a.GroupKey is not null || a.Kind is not null || a.DryRun || a.Yes || a.From is not null || a.Out is not null
                || a.Limit is not null || a.Reason is not null || a.Source is not null)
                throw new UsageException("clients takes --json (list) or resume <client>");
            if (a.Action == "list" && a.Ids.Count > 0)
                throw new UsageException($"unknown clients command '{a.Ids[0]}' (clients, or clients resume <client>)");
            if (a.Action == "resume" && (a.Ids.Count != 1 || a.Json))
                throw new UsageException("clients resume takes one client name");
            return;
        }
        if (a.Reason is not null || a.Source is not null)
            throw new UsageException("--reason and --source go with suppressions");
        if (a.Verb == "reindex" && a.Queue != DlqQueue.Email)
            throw new UsageException("reindex works on email.dead, the queue the console indexes");
        bool Allowed(params string[] verbs) => verbs.Contains(a.Verb);
        if (a.Ids.Count > 0 && !Allowed("show", "replay", "delete"))
            throw new UsageException($"'{a.Verb}' takes no ids");
        if (a.Verb == "show" && a.Ids.Count != 1)
            throw new UsageException("show takes exactly one id");
        if (a.All && !Allowed("replay", "delete"))
            throw new UsageException("--all goes with replay or delete");
        if (a.Kind is not null && !(a.Verb == "replay" && a.All))
            throw new UsageException("--kind goes with replay --all");
        if (a.GroupKey is not null && a.Verb != "replay")
            throw new UsageException("--group KEY goes with replay");
        if (a.From is not null && a.Verb != "replay")
            throw new UsageException("--from goes with replay");
        if (a.DryRun && a.Verb != "replay")
            throw new UsageException("--dry-run goes with replay");
        if (a.Yes && a.Verb != "delete")
            throw new UsageException("--yes goes with delete");
        if (a.Limit is not null && a.Verb is not ("list" or "suppressions"))
            throw new UsageException("--limit goes with list");
        if (a.Out is not null && a.Verb != "export")
            throw new UsageException("--out goes with export");
        if (a.Json && !Allowed("list", "show", "suppressions"))
            throw new UsageException("--json goes with list or show");
        if (a.Verb is "replay" or "delete")
        {
            var selectors = (a.Ids.Count > 0 ? 1 : 0) + (a.All ? 1 : 0) + (a.GroupKey is not null ? 1 : 0) + (a.From is not null ? 1 : 0);
            if (selectors != 1)
                throw new UsageException(a.Verb == "replay"
                    ? "replay takes ids, or --all, or --group KEY, or --from FILE (one of them)"
                    : "delete takes ids or --all (one of them)");
        }
    }

    private static void CheckSuppressions(DlqArguments a)
    {
        if (a.All || a.Group || a.GroupKey is not null || a.Kind is not null || a.DryRun || a.Yes || a.From is not null || a.Out is not null)
            throw new UsageException("suppressions take --limit, --source, --json (list), --reason (add)");
        switch (a.Action)
        {
            case "list" when a.Ids.Count > 0 || a.Reason is not null:
                throw new UsageException("suppressions list takes no address and no --reason");
            case "add" when a.Ids.Count != 1 || string.IsNullOrWhiteSpace(a.Reason):
                throw new UsageException("suppressions add takes one address and --reason TEXT");
            case "remove" when a.Ids.Count == 0:
                throw new UsageException("suppressions remove takes one or more addresses");
            case "add" or "remove" when a.Limit is not null || a.Source is not null || a.Json:
                throw new UsageException("--limit, --source and --json go with suppressions list");
            case "remove" when a.Reason is not null:
                throw new UsageException("--reason goes with suppressions add");
        }
    }

    internal static DlqQueue ParseQueue(string value) => value switch
    {
        "email.dead" => DlqQueue.Email,
        "webhook.dead" => DlqQueue.Webhook,
        "email.inbound.unparsed" => DlqQueue.InboundUnparsed,
        _ => throw new UsageException($"--queue must be email.dead, webhook.dead or email.inbound.unparsed, not '{value}'"),
    };

    internal static string ParseSource(string value) => value is "bounce" or "manual" or "unsubscribe" or "complaint"
        ? value
        : throw new UsageException($"--source must be bounce, manual, unsubscribe or complaint, not '{value}'");

    internal static FailureKind ParseKind(string value) => FailureKindNames.TryParse(value, out var kind)
        ? kind
        : throw new UsageException($"--kind must be transient, permanent, poison or delivery-limit, not '{value}'");

    internal static int ParseLimit(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0
            ? limit
            : throw new UsageException($"--limit must be a positive whole number, not '{value}'");
}
