using System.CommandLine;

namespace Notifications.Dlq.Cli;

/// <summary>
/// The <c>dlq</c> command line as System.CommandLine describes it: one command a verb with the options it takes, help for
/// each (<c>dlq replay --help</c>), and shell completion (its <c>[suggest]</c> directive, for <c>dotnet-suggest</c>). What a
/// parse yields is a <see cref="DlqArguments"/>, checked by the rules that span options (one selector for a replay, …).
/// </summary>
public sealed class DlqCommandLine
{
    private readonly Option<string?> _uri = new("--uri") { Description = "the broker, amqp://user:pass@host:5672/ (default: RabbitMq:Uri)", Recursive = true };
    private readonly Option<string?> _prefix = new("--prefix") { Description = "RabbitMq:Prefix of the deployment", Recursive = true };
    private readonly Option<string?> _queue = new("--queue")
    {
        Description = "email.dead (default), webhook.dead or email.inbound.unparsed (what came back and could not be read)",
        Recursive = true,
    };
    private readonly Option<bool> _json = new("--json") { Description = "one JSON document (list, show, suppressions list, clients)" };
    private readonly Option<string?> _limit = new("--limit") { Description = "at most this many" };
    private readonly Option<bool> _groupList = new("--group") { Description = "grouped by kind and reason, with counts" };
    private readonly Option<string?> _groupKey = new("--group") { Description = "the letters of one group (the key dlq list --group prints)" };
    private readonly Option<bool> _all = new("--all") { Description = "every letter in the queue" };
    private readonly Option<string?> _kind = new("--kind") { Description = "with --all: transient, permanent, poison or delivery-limit only" };
    private readonly Option<string?> _from = new("--from") { Description = "the letters of an export file (JSON lines)" };
    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "say what would be replayed, change nothing" };
    private readonly Option<bool> _yes = new("--yes") { Description = "delete --all without asking (needed without a terminal)" };
    private readonly Option<string?> _out = new("--out") { Description = "the file to write (default: standard output)" };
    private readonly Option<string?> _reason = new("--reason") { Description = "why the address is suppressed" };
    private readonly Option<string?> _source = new("--source") { Description = "bounce, manual, unsubscribe or complaint only" };
    private readonly Argument<string[]> _ids = new("id") { Description = "dead letter ids", Arity = ArgumentArity.ZeroOrMore };
    private readonly Argument<string[]> _addresses = new("address") { Description = "email addresses", Arity = ArgumentArity.ZeroOrMore };
    private readonly Argument<string[]> _client = new("client") { Description = "a client's name (Clients:<name>)", Arity = ArgumentArity.ZeroOrMore };

    public DlqCommandLine()
    {
        Root = new RootCommand("Look at, replay and delete what the service could not deliver; manage suppressions and paused clients.")
        {
            _uri, _prefix, _queue,
            new Command("list", "the dead letters, oldest first") { _limit, _groupList, _json },
            new Command("show", "one dead letter: headers, body, history") { _ids, _json },
            new Command("replay", "put dead letters back to be sent again") { _ids, _all, _kind, _groupKey, _from, _dryRun },
            new Command("delete", "remove dead letters for good") { _ids, _all, _yes },
            new Command("export", "every dead letter as JSON lines, the queue unchanged") { _out },
            new Command("reindex", "rebuild the console's index of email.dead from the queue"),
            new Command("suppressions", "the suppression list in the job store (Store:*), no broker needed")
            {
                new Command("list", "a page of the list") { _limit, _source, _json },
                new Command("add", "suppress an address for the whole deployment") { _addresses, _reason },
                new Command("remove", "mail addresses again") { _addresses },
            },
        };
        var clients = new Command("clients", "each client's bounce and complaint rates and whether it is paused")
        {
            _json,
            new Command("resume", "let a paused client send again") { _client },
        };
        clients.Action = Runs; // without it a command with a subcommand demands one; "dlq clients" alone lists them
        Root.Subcommands.Add(clients);
    }

    /// <summary>The action of a command <see cref="DlqTool"/> runs itself; any other action (help, completions) is the parser's.</summary>
    public static readonly System.CommandLine.Invocation.SynchronousCommandLineAction Runs = new RunsInTool();

    private sealed class RunsInTool : System.CommandLine.Invocation.SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult) => 0;
    }

    public RootCommand Root { get; }

    /// <summary>The parse; its errors and a request for help are for the caller to answer.</summary>
    public ParseResult Parse(IReadOnlyList<string> args) => Root.Parse(args);

    /// <summary>The arguments of a parse without errors.</summary>
    /// <exception cref="UsageException">the options do not go together, or a value is not one the option takes.</exception>
    public DlqArguments Arguments(ParseResult result)
    {
        var command = result.CommandResult.Command;
        var parent = result.CommandResult.Parent is System.CommandLine.Parsing.CommandResult { Command: var above } && above != Root ? above.Name : null;
        if (command == Root)
            throw new UsageException("a command is required");
        var verb = parent ?? command.Name;
        var action = parent is null ? (verb == "clients" ? "list" : null) : command.Name;
        if (verb == "suppressions" && action is null)
            throw new UsageException("suppressions takes list, add or remove");
        var ids = (result.GetValue(_ids) ?? []).Concat(result.GetValue(_addresses) ?? []).Concat(result.GetValue(_client) ?? []).ToList();
        var arguments = new DlqArguments
        {
            Verb = verb,
            Action = action,
            Ids = ids,
            All = result.GetValue(_all),
            Json = result.GetValue(_json),
            Group = result.GetValue(_groupList),
            GroupKey = result.GetValue(_groupKey),
            Kind = result.GetValue(_kind) is { } kind ? DlqArguments.ParseKind(kind) : null,
            DryRun = result.GetValue(_dryRun),
            Yes = result.GetValue(_yes),
            Limit = result.GetValue(_limit) is { } limit ? DlqArguments.ParseLimit(limit) : null,
            From = result.GetValue(_from),
            Out = result.GetValue(_out),
            Uri = result.GetValue(_uri),
            Prefix = result.GetValue(_prefix),
            Queue = result.GetValue(_queue) is { } queue ? DlqArguments.ParseQueue(queue) : DlqQueue.Email,
            Reason = result.GetValue(_reason),
            Source = result.GetValue(_source) is { } source ? DlqArguments.ParseSource(source) : null,
        };
        DlqArguments.Check(arguments);
        return arguments;
    }
}
