using Microsoft.Extensions.Options;
using Notifications.Core.Contract;
using Notifications.Core.Validation;

namespace Notifications.Tests.Unit;

public sealed class EmailJobValidatorTests
{
    private static readonly EmailJobValidator Validator = new(Options.Create(new EmailOptions
    {
        DefaultFrom = "Notifications <no-reply@example.com>",
        AllowedFrom = ["alerts@example.com"],
        MaxRecipients = 3,
    }));

    private static EmailJob Valid() => new()
    {
        To = ["Alice <alice@example.com>"],
        Subject = "Hello",
        Text = "Hi",
    };

    [Fact]
    public void Valid_request_has_no_errors() => Assert.Empty(Validator.ValidateRequest(Valid()));

    [Fact]
    public void Html_alone_is_enough_body() =>
        Assert.Empty(Validator.ValidateRequest(Valid() with { Text = null, Html = "<p>hi</p>" }));

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
        var errors = Validator.ValidateRequest(Valid() with { To = ["ok@example.com", address] });
        Assert.Contains("to[1]", errors.Keys);
    }

    [Fact]
    public void Recipients_over_the_limit_are_refused_across_to_cc_and_bcc()
    {
        var errors = Validator.ValidateRequest(Valid() with
        {
            To = ["a@example.com"], Cc = ["b@example.com", "c@example.com"], Bcc = ["d@example.com"],
        });
        Assert.Contains("more than the 3 allowed", errors["to"].Single());
    }

    [Fact]
    public void No_recipient_at_all_is_refused() =>
        Assert.Contains("to", Validator.ValidateRequest(Valid() with { To = [] }).Keys);

    [Theory]
    [InlineData("line\r\nBcc: x@evil.example")]
    [InlineData("line\nbreak")]
    [InlineData("   ")]
    public void Subject_must_be_one_non_empty_line(string subject) =>
        Assert.Contains("subject", Validator.ValidateRequest(Valid() with { Subject = subject }).Keys);

    [Theory]
    [InlineData("X-Ok", "a\r\nb", "headers.X-Ok")]
    [InlineData("Bcc", "x@evil.example", "headers.Bcc")]
    [InlineData("message-id", "<x@y>", "headers.message-id")]
    [InlineData("Bad Name", "v", "headers.Bad Name")]
    [InlineData("X:Colon", "v", "headers.X:Colon")]
    public void Custom_headers_cannot_inject_or_override(string name, string value, string field)
    {
        var errors = Validator.ValidateRequest(Valid() with { Headers = new Dictionary<string, string?> { [name] = value } });
        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public void Sender_must_be_the_default_or_allowed()
    {
        Assert.Empty(Validator.ValidateRequest(Valid() with { From = "Alerts <ALERTS@example.com>" }));
        Assert.Empty(Validator.ValidateRequest(Valid() with { From = "no-reply@example.com" }));
        Assert.Contains("from", Validator.ValidateRequest(Valid() with { From = "ceo@evil.example" }).Keys);
    }

    [Fact]
    public void A_job_from_the_queue_must_carry_id_and_sender()
    {
        var errors = Validator.ValidateJob(Valid());
        Assert.Contains("id", errors.Keys);
        Assert.Contains("from", errors.Keys);
        Assert.Empty(Validator.ValidateJob(Valid() with { Id = "j1", From = "no-reply@example.com" }));
    }
}
