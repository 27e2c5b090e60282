using Notifications.Worker.Consuming;
using Notifications.Worker.Claims;

namespace Notifications.Tests.Unit;

/// <summary>The worker's memory of jobs the relay accepted: exact per id, bounded, oldest out first.</summary>
public sealed class SentLedgerTests
{
    [Fact]
    public void Knows_exactly_the_ids_it_was_given_in_any_spelling_of_an_id()
    {
        var ledger = new SentLedger();
        var guid = Guid.CreateVersion7().ToString();
        ledger.Add(guid);
        ledger.Add("order-42");
        ledger.Add("a08d93f4-0000-0000-0000-000000000001x"); // a GUID-like id that is not one

        Assert.True(ledger.Contains(guid));
        Assert.True(ledger.Contains("order-42"));
        Assert.True(ledger.Contains("a08d93f4-0000-0000-0000-000000000001x"));
        Assert.False(ledger.Contains(guid.ToUpperInvariant())); // another id, though the same GUID
        Assert.False(ledger.Contains(guid.Replace("-", ""))); // likewise
        Assert.False(ledger.Contains("order-43"));
        Assert.False(ledger.Contains(Guid.CreateVersion7().ToString()));
    }

    [Fact]
    public void Past_its_capacity_the_oldest_ids_go_first()
    {
        var ledger = new SentLedger(capacity: 3);
        var ids = Enumerable.Range(0, 5).Select(_ => Guid.CreateVersion7().ToString()).ToList();
        foreach (var id in ids)
            ledger.Add(id);
        ledger.Add(ids[4]); // again: no second entry

        Assert.False(ledger.Contains(ids[0]));
        Assert.False(ledger.Contains(ids[1]));
        Assert.All(ids.Skip(2), id => Assert.True(ledger.Contains(id)));
    }
}
