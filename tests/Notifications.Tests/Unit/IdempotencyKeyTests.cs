using Notifications.Api.Sending;

namespace Notifications.Tests.Unit;

public sealed class IdempotencyKeyTests
{
    [Fact]
    public void A_key_always_names_the_same_job_and_different_keys_different_jobs()
    {
        var id = IdempotencyKey.JobId("order-4711-shipped");
        Assert.Equal(id, IdempotencyKey.JobId("order-4711-shipped"));
        Assert.NotEqual(id, IdempotencyKey.JobId("order-4712-shipped"));
        Assert.Equal(8, Guid.Parse(id).Version);
    }

    [Theory]
    [InlineData("8c1b2f9e-1111-4c5d-9e3a-000000000001", true)]
    [InlineData("with spaces is fine", true)]
    [InlineData("tab\there", false)]
    [InlineData("ключ", false)]
    public void Keys_are_printable_ascii(string key, bool valid) => Assert.Equal(valid, IdempotencyKey.IsValid(key));

    [Fact]
    public void Keys_longer_than_200_characters_are_refused() =>
        Assert.False(IdempotencyKey.IsValid(new string('k', IdempotencyKey.MaxLength + 1)));
}
