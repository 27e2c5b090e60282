using Notifications.Core.DeadLetters;
using Microsoft.Extensions.Configuration;
using Notifications.Core.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Notifications.Core.Broker;
using Notifications.Core.Events;
using Notifications.Core.Clients;
using Notifications.Core.Webhooks;
using Notifications.Core.Topology;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Notifications.Dlq.Cli;
using Notifications.Dlq.Commands;
using Notifications.Dlq.DeadLetters;

namespace Notifications.Dlq;

/// <summary>The <c>dlq</c> console: parse, connect (once, no waiting), run one command, exit with the contract's code.</summary>
public static class DlqTool
{
    // The tool's one clock: replay events, copies' timestamps and waits all read it.
    private static readonly TimeProvider Clock = TimeProvider.System;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error,
        IDictionary<string, string?>? settings = null, Func<string?>? readLine = null, bool? isTerminal = null,
        CancellationToken cancellationToken = default)
    {
        var commandLine = new DlqCommandLine();
        var result = commandLine.Parse(args);
        if (args is ["help"] || result.Action is HelpAction && result.CommandResult.Command == commandLine.Root)
        {
            // Asked for: the usage on standard output, and success.
            await output.WriteLineAsync(DlqArguments.Usage);
            return ExitCodes.Done;
        }
        if (result.Action is not (null or ParseErrorAction) && result.Action != DlqCommandLine.Runs)
            // A verb's own help (dlq replay --help), or the shell asking for completions ([suggest]).
            return await result.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
        DlqArguments parsed;
        try
        {
            parsed = result.Errors.Count > 0 ? throw new UsageException(result.Errors[0].Message) : commandLine.Arguments(result);
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync($"dlq: {ex.Message}\n{DlqArguments.Usage}");
            return ExitCodes.Usage;
        }

        // A replay announces what it replayed: the code that writes those events is compiled now, while the tool reads its
        // settings and connects, instead of in front of the first thousand events (which took 0.18-0.24 s without, 0.12-0.18 s with).
        if (parsed is { Verb: "replay", DryRun: false, Queue: DlqQueue.Email })
            _ = Task.Run(EnvelopeEvents.WarmUp<Contracts.EmailReplayed>, CancellationToken.None);

        RabbitMqOptions options;
        StoreOptions storeOptions;
        ClientsOptions clientsOptions;
        Core.Reputation.ReputationOptions reputationOptions;
        try
        {
            (options, storeOptions, clientsOptions, reputationOptions) = LoadOptions(parsed, settings);
        }
        catch (InvalidOperationException ex)
        {
            await error.WriteLineAsync($"dlq: configuration is invalid: {ex.Message}");
            return ExitCodes.Failure;
        }
        if (parsed.Verb == "suppressions")
            return await WithStoreAsync(storeOptions, error, store => SuppressionsCommand.RunAsync(store, parsed, output, error, Clock, cancellationToken));
        if (parsed.Verb == "clients")
            return await WithStoreAsync(storeOptions, error,
                store => ClientsCommand.RunAsync(store, clientsOptions, reputationOptions, parsed, output, error, cancellationToken));
        if (options.Uri is null || !options.Uri.IsAbsoluteUri || options.Uri.Scheme is not ("amqp" or "amqps"))
        {
            await error.WriteLineAsync("dlq: no usable broker URI: set --uri amqp://… or RabbitMq:Uri / RabbitMq__Uri");
            return ExitCodes.Usage;
        }

        var names = new TopologyNames(options.Prefix);
        var wrapped = Options.Create(options);
        await using var broker = new BrokerConnection(wrapped, new TopologyDeclarer(names, NullLogger<TopologyDeclarer>.Instance),
            NullLogger<BrokerConnection>.Instance, new BrokerClientName("notifications-dlq"), Clock);
        try
        {
            await broker.ConnectAsync(waitForBroker: false, declareTopology: false, cancellationToken);
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex))
        {
            await error.WriteLineAsync($"dlq: broker unreachable at {SafeUri.Redact(options.Uri)}: {ex.GetBaseException().Message}");
            return ExitCodes.Failure;
        }
        await using var publisher = new ConfirmedPublisher(broker, names, wrapped, channels: 1);
        var clients = new ClientRegistry(Options.Create(clientsOptions));
        var webhooks = new WebhookOutbox(publisher, clients);
        await using var resources = new ToolResources(Options.Create(storeOptions), Clock);
        // MassTransit's envelopes through a confirmed channel of the tool's own, not a bus: a bus cost more to start than a replay
        // of thousands takes. Not the replays' channel: behind its window of replays awaiting their confirms, the events lagged.
        await using var eventChannel = new ConfirmedPublisher(broker, names, wrapped, channels: 1);
        var events = new EnvelopeEvents(eventChannel, options);
        var replayEvents = new ReplayEvents(async cancel =>
        {
            await events.PrepareAsync<Contracts.EmailReplayed>(cancel);
            return events;
        }, resources.StoreAsync, webhooks, clients, line => error.WriteLine($"dlq: {line}"), Clock,
            new Core.MessageLog.MessageLogPublisher(eventChannel, null, NullLogger<Core.MessageLog.MessageLogPublisher>.Instance), "dlq (" + Environment.UserName + ")");
        var context = new DlqContext(broker.Current!, publisher, names, output, error,
            readLine ?? Console.ReadLine, isTerminal ?? !Console.IsInputRedirected, Clock, replayEvents, parsed.Queue, resources.StoreAsync,
            showProgress: ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected);

        try
        {
            return parsed.Verb switch
            {
                "list" => await ListCommand.RunAsync(context, parsed, cancellationToken),
                "show" => await ShowCommand.RunAsync(context, parsed, cancellationToken),
                "replay" => await ReplayCommand.RunAsync(context, parsed, cancellationToken),
                "delete" => await DeleteCommand.RunAsync(context, parsed, cancellationToken),
                "reindex" => await ReindexCommand.RunAsync(context, cancellationToken),
                _ => await ExportCommand.RunAsync(context, parsed, cancellationToken),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"dlq: {parsed.Verb} interrupted; messages not yet replayed or deleted are still in the DLQ");
            return ExitCodes.Failure;
        }
        catch (DlqFailure ex)
        {
            await error.WriteLineAsync($"dlq: {ex.Message}");
            return ExitCodes.Failure;
        }
        catch (Exception ex) when (BrokerConnection.IsBrokerUnavailable(ex) || ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"dlq: {parsed.Verb} failed: {ex.GetBaseException().Message}; messages not yet replayed or deleted are still in the DLQ");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The suppression list and the clients' reputation live in the job store: no broker needed.</summary>
    private static async Task<int> WithStoreAsync(StoreOptions storeOptions, TextWriter error, Func<IJobStore, Task<int>> command)
    {
        try
        {
            var store = await StoreRegistration.CreateAsync(Options.Create(storeOptions), Clock);
            try
            {
                return await command(store);
            }
            finally
            {
                (store as IDisposable)?.Dispose();
            }
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex) || ex is UnauthorizedAccessException or StackExchange.Redis.RedisConnectionException)
        {
            await error.WriteLineAsync($"dlq: the job store did not answer ({ex.GetBaseException().Message}); nothing changed");
            return ExitCodes.Failure;
        }
    }

    private static (RabbitMqOptions Broker, StoreOptions Store, ClientsOptions Clients, Core.Reputation.ReputationOptions Reputation) LoadOptions(DlqArguments args,
        IDictionary<string, string?>? settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        var options = new RabbitMqOptions();
        configuration.GetSection(RabbitMqOptions.Section).Bind(options);
        if (args.Uri is not null)
            options.Uri = System.Uri.TryCreate(args.Uri, UriKind.Absolute, out var uri) ? uri : null;
        if (args.Prefix is not null)
            options.Prefix = args.Prefix;
        var store = new StoreOptions();
        configuration.GetSection(StoreOptions.Section).Bind(store);
        var clients = new ClientsOptions();
        configuration.GetSection(ClientsOptions.Section).Bind(clients.ByName);
        var reputation = new Core.Reputation.ReputationOptions();
        configuration.GetSection(Core.Reputation.ReputationOptions.Section).Bind(reputation);
        return (options, store, clients, reputation);
    }
}
