using System.Net.Sockets;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using Notifications.Core.Contract;
using Notifications.Worker.Retrying;
using Notifications.Worker.Sending;

namespace Notifications.Tests.Unit;

public sealed class FailureRoutingTests
{
    private static readonly RetryRouter Router = new(Options.Create(new RetryOptions { Delays = [.. RetryOptions.DefaultDelays] }));

    [Theory]
    [InlineData(SmtpStatusCode.ServiceNotAvailable, FailureKind.Transient)]
    [InlineData(SmtpStatusCode.MailboxBusy, FailureKind.Transient)]
    [InlineData(SmtpStatusCode.InsufficientStorage, FailureKind.Transient)]
    [InlineData(SmtpStatusCode.MailboxUnavailable, FailureKind.Permanent)]
    [InlineData(SmtpStatusCode.ExceededStorageAllocation, FailureKind.Permanent)]
    [InlineData(SmtpStatusCode.TransactionFailed, FailureKind.Permanent)]
    public void Smtp_replies_are_classified_by_their_code(SmtpStatusCode code, FailureKind expected)
    {
        var ex = new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, code, "relay said no");
        Assert.Equal(expected, SmtpFailure.Classify(ex));
        Assert.StartsWith($"SMTP {(int)code}", SmtpFailure.Describe(ex));
    }

    [Fact]
    public void Connection_trouble_is_transient()
    {
        Assert.Equal(FailureKind.Transient, SmtpFailure.Classify(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.Equal(FailureKind.Transient, SmtpFailure.Classify(new IOException("connection reset")));
        Assert.Equal(FailureKind.Transient, SmtpFailure.Classify(new TimeoutException()));
        Assert.Equal(FailureKind.Transient, SmtpFailure.Classify(new SmtpProtocolException("unexpected disconnect")));
        Assert.Equal(FailureKind.Transient, SmtpFailure.Classify(new StaleSmtpConnectionException(new IOException("x"))));
    }

    [Fact]
    public void Only_failures_of_the_relay_itself_feed_the_circuit_breaker()
    {
        Assert.True(SmtpFailure.IsRelayDown(new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.ServiceNotAvailable, "421 closing")));
        Assert.True(SmtpFailure.IsRelayDown(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.True(SmtpFailure.IsRelayDown(new StaleSmtpConnectionException(new IOException("reset"))));
        Assert.False(SmtpFailure.IsRelayDown(new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, (SmtpStatusCode)451, "451 try later")));
        Assert.False(SmtpFailure.IsRelayDown(new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxUnavailable, "550 no")));
    }

    [Fact]
    public void Failure_description_is_one_line() =>
        Assert.DoesNotContain('\n', SmtpFailure.Describe(new IOException("line one\nline two")));

    [Theory]
    [InlineData(0, "email.retry.1", 5)]
    [InlineData(1, "email.retry.2", 25)]
    [InlineData(2, "email.retry.3", 125)]
    public void Transient_failures_climb_the_retry_queues(int previousAttempts, string queue, int delaySeconds)
    {
        var decision = Router.Decide(FailureKind.Transient, previousAttempts);
        Assert.Equal(queue, decision.RoutingKey);
        Assert.Equal(TimeSpan.FromSeconds(delaySeconds), decision.Delay);
        Assert.Equal(previousAttempts + 1, decision.Attempts);
        Assert.False(decision.IsDeadLetter);
    }

    [Fact]
    public void Fourth_transient_failure_goes_to_the_dlq()
    {
        var decision = Router.Decide(FailureKind.Transient, 3);
        Assert.True(decision.IsDeadLetter);
        Assert.Equal("email.dead", decision.RoutingKey);
        Assert.Equal(4, decision.Attempts);
    }

    [Theory]
    [InlineData(FailureKind.Permanent)]
    [InlineData(FailureKind.Poison)]
    public void Permanent_and_poison_go_to_the_dlq_at_once(FailureKind kind)
    {
        var decision = Router.Decide(kind, 0);
        Assert.True(decision.IsDeadLetter);
        Assert.Equal(kind, decision.Kind);
        Assert.Equal(1, decision.Attempts);
    }

    [Fact]
    public void Fewer_configured_delays_mean_fewer_retries()
    {
        var router = new RetryRouter(Options.Create(new RetryOptions { Delays = [TimeSpan.FromSeconds(1)] }));
        Assert.False(router.Decide(FailureKind.Transient, 0).IsDeadLetter);
        Assert.True(router.Decide(FailureKind.Transient, 1).IsDeadLetter);
    }

    [Theory]
    [InlineData(454, "4.7.0 Throttling failure: Maximum sending rate exceeded.", true)]
    [InlineData(421, "4.7.28 Our system has detected an unusual rate of unsolicited mail; rate limited", true)]
    [InlineData(451, "4.7.1 Too many messages from this sender, slow down", true)]
    [InlineData(452, "4.5.3 Too many recipients", true)]
    [InlineData(421, "4.3.2 Service not available, closing transmission channel", false)]
    [InlineData(451, "4.3.0 Temporary error: message generated a local problem in operation", false)]
    [InlineData(550, "5.7.1 Message rejected: sending rate exceeded", false)] // a 5xx is never backpressure
    public void A_4xx_naming_a_rate_or_too_many_is_a_throttle_and_not_the_relay_being_down(int code, string text, bool throttle)
    {
        var ex = new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, (SmtpStatusCode)code, text);

        Assert.Equal(throttle, SmtpFailure.IsThrottle(ex));
        if (throttle)
            Assert.False(SmtpFailure.IsRelayDown(ex));
    }
}
