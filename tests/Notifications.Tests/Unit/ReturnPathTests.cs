using Microsoft.Extensions.Options;
using Notifications.Core.Bounces;

namespace Notifications.Tests.Unit;

/// <summary>The return path names its job, fits a local part, and nobody can forge or alter it without the secret.</summary>
public sealed class ReturnPathTests
{
    private static ReturnPath Make(string secret = "a-secret-of-at-least-thirty-two-characters!") =>
        new(Options.Create(new BouncesOptions { Domain = "Bounces.Example.com", Secret = secret }));

    [Theory]
    [InlineData("0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a")]
    [InlineData("0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a-r1-r2")]
    public void A_return_path_reads_back_to_its_job_and_fits_a_local_part(string jobId)
    {
        var returnPath = Make();

        var address = returnPath.AddressFor(jobId)!;

        Assert.Matches(@"^b\+[0-9a-z-]+\.[a-z2-7]{10}@bounces\.example\.com$", address);
        Assert.True(address.IndexOf('@') <= ReturnPath.MaxLocalPart);
        Assert.True(returnPath.TryReadJobId(address, out var read));
        Assert.Equal(jobId, read);
        Assert.True(returnPath.TryReadJobId(address.ToUpperInvariant(), out _), "a server that upper-cases the local part");
    }

    [Fact]
    public void Any_changed_character_another_secret_or_another_domain_does_not_verify()
    {
        var returnPath = Make();
        var address = returnPath.AddressFor("0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a")!;
        var at = address.IndexOf('@');
        for (var i = 2; i < at; i++)
        {
            var changed = address[..i] + (address[i] == 'a' ? 'b' : 'a') + address[(i + 1)..];
            if (changed[i] == '.' || address[i] == '.')
                continue;
            Assert.False(returnPath.TryReadJobId(changed, out _), changed);
        }
        Assert.False(Make("another-secret-of-at-least-thirty-two-chars").TryReadJobId(address, out _));
        Assert.False(returnPath.TryReadJobId(address.Replace("bounces.example.com", "evil.example"), out _));
        Assert.False(returnPath.TryReadJobId("postmaster@bounces.example.com", out _));
        Assert.False(returnPath.TryReadJobId("", out _));
    }

    [Fact]
    public void Without_a_domain_or_with_an_id_unfit_for_a_local_part_there_is_no_return_path()
    {
        Assert.Null(new ReturnPath(Options.Create(new BouncesOptions())).AddressFor("0192f0c5-6d3e-7b7e-9a1c-5e1f2d3c4b5a"));
        Assert.Null(Make().AddressFor("has space"));
        Assert.Null(Make().AddressFor(new string('a', 60)));
    }
}
