using System.Globalization;
using Notifications.Core.Contract;

namespace Notifications.Dlq.Cli;

/// <summary>The parsed command line of <c>dlq</c>.</summary>
public sealed record DlqArguments
{
    public const string Usage = """
        usage:
          dlq list    [--limit N] [--group] [--json]
          dlq show    <id> [--json]
          dlq replay  <id>... | --all [--kind transient|permanent|poison|delivery-limit] | --group KEY | --from FILE.jsonl  [--dry-run]
          dlq delete  <id>... | --all [--yes]
          dlq export  [--out FILE.jsonl]
        options for every command:
          --uri amqp://user:pass@host:5672/   broker (default: RabbitMq:Uri from appsettings.json / RabbitMq__Uri)
          --prefix NAME                       RabbitMq:Prefix of the deployment
        exit codes: 0 done, 1 failure, 2 usage error, 3 an id was not found
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

    public static DlqArguments Parse(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
            throw new UsageException("a command is required");
        var verb = args[0];
        if (verb is not ("list" or "show" or "replay" or "delete" or "export"))
            throw new UsageException($"unknown command '{verb}'");

        var ids = new List<string>();
        var parsed = new DlqArguments { Verb = verb };
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                ? args[++i]
                : throw new UsageException($"{arg} needs a value");
            parsed = arg switch
            {
                "--all" => parsed with { All = true },
                "--json" => parsed with { Json = true },
                "--group" when verb == "list" => parsed with { Group = true },
                "--group" => parsed with { GroupKey = Value() },
                "--kind" => parsed with { Kind = ParseKind(Value()) },
                "--dry-run" => parsed with { DryRun = true },
                "--yes" => parsed with { Yes = true },
                "--limit" => parsed with { Limit = ParseLimit(Value()) },
                "--from" => parsed with { From = Value() },
                "--out" => parsed with { Out = Value() },
                "--uri" => parsed with { Uri = Value() },
                "--prefix" => parsed with { Prefix = Value() },
                _ when arg.StartsWith("--", StringComparison.Ordinal) => throw new UsageException($"unknown option '{arg}'"),
                _ => AddId(parsed, ids, arg),
            };
        }
        parsed = parsed with { Ids = ids };
        Check(parsed);
        return parsed;
    }

    private static DlqArguments AddId(DlqArguments parsed, List<string> ids, string id)
    {
        ids.Add(id);
        return parsed;
    }

    private static void Check(DlqArguments a)
    {
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
        if (a.Limit is not null && a.Verb != "list")
            throw new UsageException("--limit goes with list");
        if (a.Out is not null && a.Verb != "export")
            throw new UsageException("--out goes with export");
        if (a.Json && !Allowed("list", "show"))
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

    private static FailureKind ParseKind(string value) => FailureKindNames.TryParse(value, out var kind)
        ? kind
        : throw new UsageException($"--kind must be transient, permanent, poison or delivery-limit, not '{value}'");

    private static int ParseLimit(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit > 0
            ? limit
            : throw new UsageException($"--limit must be a positive whole number, not '{value}'");
}
