using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Notifications.Core.Unsubscribing;

namespace Notifications.Tests.Unit;

/// <summary>The unsubscribe link's token: opaque, authenticated, and still good under a rotated-out secret until its date.</summary>
public sealed class UnsubscribeTokenTests
{
    private const string OldSecret = "old-secret-old-secret-old-secret-1";
    private const string NewSecret = "new-secret-new-secret-new-secret-2";
    private static readonly DateTimeOffset Until = new(2027, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static UnsubscribeTokens Tokens(string secret, FakeTimeProvider clock, params UnsubscribeOptions.PreviousSecret[] previous) =>
        new(Options.Create(new UnsubscribeOptions { BaseUrl = "https://mail.example.com", Secret = secret, PreviousSecrets = [.. previous] }), clock);

    [Fact]
    public void A_token_reads_back_as_what_it_was_made_from_and_shows_none_of_it()
    {
        var tokens = Tokens(NewSecret, new FakeTimeProvider());
        var member = new ListMembership("shop", "digest", "Bob.Smith@example.org");

        var token = tokens.Mint(member);

        Assert.True(tokens.TryRead(token, out var read));
        Assert.Equal(member, read);
        Assert.DoesNotContain("Bob", token, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("digest", token, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(token, tokens.Mint(member)); // a fresh nonce each time: two mails' links do not match
    }

    [Fact]
    public void A_link_made_with_a_rotated_out_secret_works_until_its_date_and_not_after()
    {
        var clock = new FakeTimeProvider(Until.AddDays(-1));
        var before = Tokens(OldSecret, clock).Mint(new ListMembership("shop", "digest", "bob@example.org"));
        var after = Tokens(NewSecret, clock, new UnsubscribeOptions.PreviousSecret { Secret = OldSecret, Until = Until });

        Assert.True(after.TryRead(before, out _));
        clock.Advance(TimeSpan.FromDays(2));
        Assert.False(after.TryRead(before, out _));
        Assert.False(Tokens(NewSecret, clock).TryRead(before, out _)); // never with a secret it was not made with
    }

    [Theory]
    [InlineData("")]
    [InlineData("AAAA")]
    [InlineData("not base64 at all!")]
    public void Garbage_is_not_a_token(string token) => Assert.False(Tokens(NewSecret, new FakeTimeProvider()).TryRead(token, out _));

    [Fact]
    public void Every_changed_character_is_refused()
    {
        var tokens = Tokens(NewSecret, new FakeTimeProvider());
        var token = tokens.Mint(new ListMembership(null, "digest", "bob@example.org"));

        for (var i = 0; i < token.Length; i++)
        {
            var changed = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.False(tokens.TryRead(changed, out _), $"changed at {i}");
        }
        Assert.False(tokens.TryRead(token[..^1], out _));
        Assert.False(tokens.TryRead(token + "A", out _));
    }
}
