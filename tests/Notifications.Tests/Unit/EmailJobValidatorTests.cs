using Microsoft.Extensions.Options;
using Notifications.Core.Contract;
using Notifications.Core.Validation;
using Notifications.Core.Clients;
using Notifications.Api.Sending;

namespace Notifications.Tests.Unit;

public sealed class EmailJobValidatorTests
{
    private static readonly EmailJobValidator Validator = new(Options.Create(new EmailOptions
    {
        DefaultFrom = "Notifications <no-reply@example.com>",
        AllowedFrom = ["alerts@example.com"],
        MaxRecipients = 3,
    }), Clients(), Options.Create(new Notifications.Core.Unsubscribing.UnsubscribeOptions { BaseUrl = "https://mail.example.com", Secret = new string('s', 32) }));

    private static ClientRegistry Clients()
    {
        var options = new ClientsOptions();
        options.ByName["billing"] = new ClientOptions { KeyHashes = [new string('a', 64)], AllowedFrom = ["Billing <billing@example.com>"] };
        return new ClientRegistry(Options.Create(options));
    }

    private static SendEmailRequest Valid() => new()
    {
        To = ["Alice <alice@example.com>"],
        Subject = "Hello",
        Text = "Hi",
    };

    [Fact]
    public void Valid_request_has_no_errors() => Assert.Empty(Validator.Validate(Valid(), null));

    [Fact]
    public void Html_alone_is_enough_body() =>
        Assert.Empty(Validator.Validate(Valid() with { Text = null, Html = "<p>hi</p>" }, null));

    [Theory]
    [InlineData("alice")]
    [InlineData("alice@")]
    [InlineData("@example.com")]
    [InlineData("a@example.com, b@example.com")]
    [InlineData("group: a@example.com;")]
    [InlineData("alice@example.com\r\nBcc: x@evil.example")]
    [InlineData("")]
    public void Invalid_recipient_is_named_by_its_index(string address)
    {
        var errors = Validator.Validate(Valid() with { To = ["ok@example.com", address] }, null);
        Assert.Contains("to[1]", errors.Keys);
    }

    [Fact]
    public void Recipients_over_the_limit_are_refused_across_to_cc_and_bcc()
    {
        var errors = Validator.Validate(Valid() with
        {
            To = ["a@example.com"], Cc = ["b@example.com", "c@example.com"], Bcc = ["d@example.com"],
        }, null);
        Assert.Contains("more than the 3 allowed", errors["to"].Single());
    }

    [Fact]
    public void No_recipient_at_all_is_refused() =>
        Assert.Contains("to", Validator.Validate(Valid() with { To = [] }, null).Keys);

    [Theory]
    [InlineData("line\r\nBcc: x@evil.example")]
    [InlineData("line\nbreak")]
    [InlineData("   ")]
    public void Subject_must_be_one_non_empty_line(string subject) =>
        Assert.Contains("subject", Validator.Validate(Valid() with { Subject = subject }, null).Keys);

    [Theory]
    [InlineData("X-Ok", "a\r\nb", "headers.X-Ok")]
    [InlineData("Bcc", "x@evil.example", "headers.Bcc")]
    [InlineData("message-id", "<x@y>", "headers.message-id")]
    [InlineData("Bad Name", "v", "headers.Bad Name")]
    [InlineData("X:Colon", "v", "headers.X:Colon")]
    public void Custom_headers_cannot_inject_or_override(string name, string value, string field)
    {
        var errors = Validator.Validate(Valid() with { Headers = new Dictionary<string, string?> { [name] = value } }, null);
        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public void Sender_must_be_the_default_or_allowed()
    {
        Assert.Empty(Validator.Validate(Valid() with { From = "Alerts <ALERTS@example.com>" }, null));
        Assert.Empty(Validator.Validate(Valid() with { From = "no-reply@example.com" }, null));
        Assert.Contains("from", Validator.Validate(Valid() with { From = "ceo@evil.example" }, null).Keys);
    }

    [Fact]
    public void A_job_from_the_queue_is_held_to_the_same_rules()
    {
        var job = Valid().ToJob("j1", DateTimeOffset.UtcNow, "Notifications <no-reply@example.com>", null);
        Assert.Empty(Validator.Validate(job, null));
        Assert.Contains("from", Validator.Validate(job with { From = "ceo@evil.example" }, null).Keys);
        Assert.Contains("to", Validator.Validate(job with { To = [] }, null).Keys);
    }

    [Fact]
    public void A_clients_job_is_held_to_its_clients_senders()
    {
        var job = Valid().ToJob("j1", DateTimeOffset.UtcNow, "Billing <billing@example.com>", "billing");
        Assert.Empty(Validator.Validate(job, "billing"));
        Assert.Contains("from", Validator.Validate(job with { From = "alerts@example.com" }, "billing").Keys); // Email:AllowedFrom is not its
        Assert.Contains("client", Validator.Validate(job, "nobody").Keys);
    }

    [Theory]
    [InlineData("""{"id":"j1","from":"a@example.com","subject":"s"}""", "createdAt")]
    [InlineData("""{"id":null,"createdAt":"2026-01-01T00:00:00Z","from":"a@example.com","subject":"s"}""", "id")]
    [InlineData("""{"id":"j1","createdAt":"2026-01-01T00:00:00Z","subject":"s"}""", "from")]
    [InlineData("""{"id":"j1","createdAt":"2026-01-01T00:00:00Z","from":"a@example.com","subject":"s","to":["a@example.com"],"to":["b@example.com"]}""", "to")]
    public void A_body_without_what_a_job_needs_or_with_a_field_twice_does_not_decode(string body, string field)
    {
        Assert.False(JobCodec.TryDecode(System.Text.Encoding.UTF8.GetBytes(body), out _, out var error));
        Assert.Contains(field, error);
    }
}
