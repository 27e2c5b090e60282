using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Notifications.Core.Topology;
using Polly;
using Polly.Retry;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Notifications.Core.Broker;

/// <summary>
/// The one AMQP connection of a process. It connects in the background and keeps trying until
/// the broker answers (a component started before the broker waits, it does not crash); after
/// that the client's automatic recovery brings connection, channels and consumers back.
/// </summary>
public sealed class BrokerConnection : IAsyncDisposable
{
    // However many callers notice a deleted queue at once, the topology is declared again at most this often.
    private static readonly TimeSpan RestoreInterval = TimeSpan.FromSeconds(1);

    private readonly RabbitMqOptions _options;
    private readonly TopologyDeclarer _declarer;
    private readonly ILogger<BrokerConnection> _logger;
    private readonly string _clientName;
    private readonly ResiliencePipeline _connectPipeline;
    private readonly TaskCompletionSource<IConnection> _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _restoring = new(1, 1);
    private IConnection? _connection;
    private readonly TimeProvider _clock;
    private long _restoredAt = long.MinValue;
    private volatile string? _blockedReason;

    public BrokerConnection(IOptions<RabbitMqOptions> options, TopologyDeclarer declarer, ILogger<BrokerConnection> logger,
        BrokerClientName clientName, TimeProvider clock)
    {
        _clock = clock;
        _options = options.Value;
        _declarer = declarer;
        _logger = logger;
        _clientName = clientName.Value;
        _connectPipeline = new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsBrokerUnavailable),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(5),
                OnRetry = args =>
                {
                    _logger.LogWarning("Broker {Broker} not reachable ({Reason}); trying again in {Delay}",
                        SafeUri.Redact(_options.Uri), args.Outcome.Exception?.GetBaseException().Message, args.RetryDelay);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>The connection when it is open right now, else null.</summary>
    public IConnection? Current => _connection is { IsOpen: true } connection ? connection : null;

    public bool IsConnected => Current is not null;

    /// <summary>This process declares the topology (API, worker), so it may declare it again; a console tool only uses what exists.</summary>
    public bool OwnsTopology { get; private set; }

    /// <summary>Why the broker blocks this connection's publishes (a memory or disk alarm), or null while it does not.</summary>
    public string? BlockedReason => _blockedReason;

    /// <summary>Completes once the first connection is up and the topology declared.</summary>
    public Task<IConnection> WhenConnectedAsync(CancellationToken cancellationToken) =>
        _connected.Task.WaitAsync(cancellationToken);

    /// <summary>Connects and declares the topology, retrying while the broker is unreachable.</summary>
    /// <exception cref="TopologyMismatchException">the broker holds our objects with other arguments.</exception>
    public Task ConnectAsync(CancellationToken cancellationToken) => ConnectAsync(waitForBroker: true, declareTopology: true, cancellationToken);

    /// <param name="waitForBroker">keep trying while the broker is unreachable; false fails at once (a console tool).</param>
    /// <param name="declareTopology">declare the exchange and queues; false only uses what exists.</param>
    /// <param name="cancellationToken">stops the waiting.</param>
    public async Task ConnectAsync(bool waitForBroker, bool declareTopology, CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = _options.Uri!,
            ClientProvidedName = _clientName,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            // Only consumers are recovered: the queues, exchanges and bindings are durable (quorum queues replicated across
            // the cluster) and outlive a connection. Re-declaring them on recovery failed while a quorum queue elected a new
            // leader after its node died, and a failed recovery closes the connection for good (541 FailedAutoRecovery): the
            // API answered 503 for minutes. Something deleted is declared again on demand (RestoreTopologyAsync).
            TopologyRecoveryFilter = new TopologyRecoveryFilter
            {
                ExchangeFilter = _ => false,
                QueueFilter = _ => false,
                BindingFilter = _ => false,
            },
            NetworkRecoveryInterval = _options.RecoveryInterval,
            RequestedHeartbeat = _options.Heartbeat,
            RequestedConnectionTimeout = _options.ConnectTimeout,
            ConsumerDispatchConcurrency = (ushort)_options.Concurrency,
        };
        // amqps:// turns TLS on (port 5671 by default) with the URI's host as the name to check; a private CA may vouch for it.
        if (factory.Ssl.Enabled && Configuration.PrivateCertificateAuthority.FromFile(_options.CaCertificate) is { } authority)
            factory.Ssl.CertificateValidationCallback = authority.Validate;

        var pipeline = waitForBroker ? _connectPipeline : ResiliencePipeline.Empty;
        var connection = await pipeline.ExecuteAsync(async ct =>
        {
            // Every node of the cluster: the client connects to the first that answers, and recovers to any of them.
            var candidate = await factory.CreateConnectionAsync(
                _options.Nodes().Select(node => new AmqpTcpEndpoint(node.Host, node.Port, factory.Ssl.Enabled
                    ? new SslOption(node.Host) { Enabled = true, CertificateValidationCallback = factory.Ssl.CertificateValidationCallback }
                    : new SslOption())).ToList(), ct);
            try
            {
                if (declareTopology)
                    await _declarer.DeclareAsync(candidate, ct);
                return candidate;
            }
            catch
            {
                await candidate.DisposeAsync();
                throw;
            }
        }, cancellationToken);

        connection.ConnectionShutdownAsync += (_, args) =>
        {
            if (args.Initiator != ShutdownInitiator.Application)
                _logger.LogWarning("Broker connection lost ({Reason}); recovering", args.ReplyText);
            return Task.CompletedTask;
        };
        connection.ConnectionRecoveryErrorAsync += (_, args) =>
        {
            _logger.LogWarning("Broker connection not recovered yet ({Reason}); trying again", args.Exception.GetBaseException().Message);
            return Task.CompletedTask;
        };
        connection.RecoverySucceededAsync += (_, _) =>
        {
            _blockedReason = null; // a new connection starts unblocked; the broker blocks it again if the alarm holds
            _logger.LogInformation("Broker connection recovered");
            return Task.CompletedTask;
        };
        connection.ConnectionBlockedAsync += (_, args) =>
        {
            _blockedReason = args.Reason;
            _logger.LogWarning("Broker blocks publishing ({Reason}): publishes are refused until it clears", args.Reason);
            return Task.CompletedTask;
        };
        connection.ConnectionUnblockedAsync += (_, _) =>
        {
            _blockedReason = null;
            _logger.LogInformation("Broker accepts publishes again");
            return Task.CompletedTask;
        };

        OwnsTopology = declareTopology;
        _connection = connection;
        _logger.LogInformation("Connected to broker {Broker} as {Client}", SafeUri.Redact(_options.Uri), _clientName);
        _connected.TrySetResult(connection);
    }

    /// <summary>
    /// Declares the topology again after something deleted part of it under the running service (an operator
    /// deleting a queue): logged as an error, done at most once a second however many callers notice it.
    /// </summary>
    public async Task RestoreTopologyAsync(string symptom, CancellationToken cancellationToken)
    {
        var connection = Current ?? throw new PublishFailedException("broker unreachable: no open connection");
        var asked = _clock.GetTimestamp();
        await _restoring.WaitAsync(cancellationToken);
        try
        {
            if (Interlocked.Read(ref _restoredAt) is var restored && restored != long.MinValue
                && _clock.GetElapsedTime(restored, asked) < RestoreInterval)
                return; // someone restored it just before (or while) this caller waited
            _logger.LogError("Broker topology is missing something ({Symptom}): something deleted our queues or bindings; declaring them again",
                symptom);
            await _declarer.DeclareAsync(connection, cancellationToken);
            Interlocked.Exchange(ref _restoredAt, _clock.GetTimestamp());
        }
        finally
        {
            _restoring.Release();
        }
    }

    public static bool IsBrokerUnavailable(Exception ex) => ex is BrokerUnreachableException
        or ConnectFailureException or AlreadyClosedException or IOException or SocketException or TimeoutException
        || ex is OperationInterruptedException && ex is not TopologyMismatchException;

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (IsBrokerUnavailable(ex))
            {
                // Already gone: nothing left to close.
            }
            await connection.DisposeAsync();
        }
        _connected.TrySetCanceled();
    }
}
