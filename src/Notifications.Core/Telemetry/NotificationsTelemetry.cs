using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Notifications.Core.Telemetry;

/// <summary>
/// The service's own traces and metrics, in one place. Instrument names follow the OpenTelemetry
/// messaging conventions where they apply (<c>messaging.*</c>), the rest are <c>notifications.*</c>.
/// </summary>
public sealed class NotificationsTelemetry : IDisposable
{
    public const string Name = "Notifications";
    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public NotificationsTelemetry(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        Published = _meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Messages published to the broker and confirmed");
        Consumed = _meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}", "Jobs delivered to the worker");
        ProcessDuration = _meter.CreateHistogram<double>("messaging.process.duration", "s", "Time the worker spent on one delivery");
        Accepted = _meter.CreateCounter<long>("notifications.jobs.accepted", "{job}", "Jobs answered 202");
        Throttled = _meter.CreateCounter<long>("notifications.smtp.throttled", "{reply}", "Relay replies that said slow down, by recipient domain");
        RateLimited = _meter.CreateCounter<long>("notifications.api.rate_limited", "{request}", "Requests answered 429 for a client's rate, by client");
        Sent = _meter.CreateCounter<long>("notifications.jobs.sent", "{job}", "Jobs the relay accepted");
        Retried = _meter.CreateCounter<long>("notifications.jobs.retried", "{job}", "Jobs sent to a retry queue, by attempt");
        DeadLettered = _meter.CreateCounter<long>("notifications.jobs.dead_lettered", "{job}", "Jobs sent to the DLQ, by kind");
        JobsSuppressed = _meter.CreateCounter<long>("notifications.jobs.suppressed", "{job}", "Jobs not sent because every recipient is suppressed");
        RecipientsSuppressed = _meter.CreateCounter<long>("notifications.recipients.suppressed", "{recipient}", "Recipients left out of a job: on the suppression list");
        RecipientsRefused = _meter.CreateCounter<long>("notifications.recipients.refused", "{recipient}",
            "Recipients the relay refused at RCPT TO while others got the mail, by outcome (rejected, deferred)");
        WebhooksSent = _meter.CreateCounter<long>("notifications.webhooks.sent", "{callback}", "Callbacks a client's endpoint answered 2xx, by client");
        WebhooksFailed = _meter.CreateCounter<long>("notifications.webhooks.failed", "{callback}", "Callback attempts that failed, by client");
        WebhooksDead = _meter.CreateCounter<long>("notifications.webhooks.dead", "{callback}", "Callbacks moved to webhook.dead, by client");
        WebhookLatency = _meter.CreateHistogram<double>("notifications.webhooks.delivery_duration", "s",
            "From the outcome to its callback's 2xx, retries included, by client");
        LogEntriesWritten = _meter.CreateCounter<long>("notifications.log.written", "{entry}", "Message-log entries written to the log's store");
        LogEntriesDropped = _meter.CreateCounter<long>("notifications.log.dropped", "{entry}",
            "Message-log entries not logged, by reason (full: message.log at its limit; unreadable: not a list of entries)");
        SuppressionsAdded = _meter.CreateCounter<long>("notifications.suppressions.added", "{address}", "Addresses put on the suppression list, by source");
        SmtpDuration = _meter.CreateHistogram<double>("notifications.smtp.send.duration", "s", "One SMTP send, connection included");
        DeliveryLatency = _meter.CreateHistogram<double>("notifications.job.delivery.duration", "s", "From acceptance (202) to the relay's 250");
        AfterSendRetries = _meter.CreateCounter<long>("notifications.jobs.after_send_retries", "{try}",
            "Sent jobs whose follow-up, EmailSent or webhook publish failed and was tried again (never the mail)");
        DkimSigned = _meter.CreateCounter<long>("notifications.dkim.signed", "{signature}", "DKIM signatures put on mail");
        Submissions = _meter.CreateCounter<long>("notifications.submission.messages", "{message}",
            "Messages submitted by SMTP, by outcome (queued, invalid, sender, paused, too-big, queue-full, broker-unavailable, …)");
        Inbound = _meter.CreateCounter<long>("notifications.inbound.messages", "{message}",
            "Messages that came back to the return-path domain, by kind (delivery-status, complaint, auto-reply) and outcome (recorded, unparsed, unmatched, dropped)");
        InboundIgnored = _meter.CreateCounter<long>("notifications.inbound.ignored", "{recipient}",
            "Recipients a report named that it may not act on, by reason (not-a-recipient: not one the job mailed; repeated: reported before)");
        Bounces = _meter.CreateCounter<long>("notifications.bounces", "{recipient}", "Bounces reported after the relay accepted the mail, by type (hard, soft)");
        Complaints = _meter.CreateCounter<long>("notifications.complaints", "{complaint}", "Spam complaints (ARF reports), by client");
        Delays = _meter.CreateCounter<long>("notifications.delays", "{recipient}", "Delivery delays reported (DSN Action: delayed)");
        ClientsPaused = _meter.CreateCounter<long>("notifications.clients.paused", "{pause}", "Clients the reputation guard paused, by client and rate (bounce, complaint)");
        DkimUnsigned = _meter.CreateCounter<long>("notifications.dkim.unsigned", "{mail}", "Mail sent unsigned: its From domain has no key (yet), by domain");
    }

    public Counter<long> Published { get; }
    public Counter<long> Consumed { get; }
    public Histogram<double> ProcessDuration { get; }
    public Counter<long> Accepted { get; }
    public Counter<long> RateLimited { get; }
    public Counter<long> Throttled { get; }
    public Counter<long> Sent { get; }
    public Counter<long> LogEntriesWritten { get; }
    public Counter<long> LogEntriesDropped { get; }
    public Counter<long> Retried { get; }
    public Counter<long> DeadLettered { get; }
    public Counter<long> JobsSuppressed { get; }
    public Counter<long> RecipientsSuppressed { get; }
    public Counter<long> RecipientsRefused { get; }
    public Counter<long> SuppressionsAdded { get; }
    public Counter<long> WebhooksSent { get; }
    public Counter<long> WebhooksFailed { get; }
    public Counter<long> WebhooksDead { get; }
    public Histogram<double> WebhookLatency { get; }
    public Histogram<double> SmtpDuration { get; }
    public Histogram<double> DeliveryLatency { get; }
    public Counter<long> AfterSendRetries { get; }
    public Counter<long> DkimSigned { get; }
    public Counter<long> DkimUnsigned { get; }
    public Counter<long> Inbound { get; }
    public Counter<long> Submissions { get; }
    public Counter<long> InboundIgnored { get; }
    public Counter<long> Bounces { get; }
    public Counter<long> Complaints { get; }
    public Counter<long> Delays { get; }
    public Counter<long> ClientsPaused { get; }

    /// <summary>A gauge read when metrics are collected (queue depths, circuit state).</summary>
    public void ObserveGauge(string name, string unit, string description, Func<IEnumerable<Measurement<long>>> observe) =>
        _meter.CreateObservableGauge(name, observe, unit, description);

    public static KeyValuePair<string, object?> Destination(string queueOrKey) => new("messaging.destination.name", queueOrKey);

    public static readonly KeyValuePair<string, object?> RabbitMq = new("messaging.system", "rabbitmq");

    public void Dispose() => _meter.Dispose();
}
