using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Notifications.Core.Broker;
using Notifications.Tests.Infrastructure;

namespace Notifications.Tests.Integration;

/// <summary>amqps:// for the job connection and MassTransit's events alike, with a broker certificate from a private CA.</summary>
[Collection(FaultBrokerCollection.Name)]
public sealed class TlsBrokerTests
{
    [Fact]
    public async Task Jobs_and_their_events_travel_over_amqps_to_a_broker_whose_certificate_a_private_CA_issued()
    {
        await using var tls = await TlsBroker.CreateAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false);
        pipeline.Settings["RabbitMq:Uri"] = tls.Uri;
        pipeline.Settings["RabbitMq:CaCertificate"] = tls.CaPath;
        await pipeline.StartApiAsync();
        await pipeline.StartWorkerAsync();

        var id = await Jobs.PostAndGetIdAsync(pipeline.Http, Jobs.Valid("over TLS"));

        await Eventually.TrueAsync(() => pipeline.Relay.AcceptedJobIds.Contains(id), "the mail");
        // "sent" reaches the status through the EmailSent event: MassTransit's connection is on TLS too.
        await Eventually.ReturnsAsync(async () => (await pipeline.Http.GetFromJsonAsync<JsonElement>($"/api/emails/{id}")).GetProperty("status").GetString(),
            status => status == "sent", "the status to say sent");
        Assert.True(pipeline.ApiServices.GetRequiredService<BrokerConnection>().Current!.Endpoint.Ssl.Enabled);
        Assert.True(pipeline.WorkerServices.GetRequiredService<BrokerConnection>().Current!.Endpoint.Ssl.Enabled);
    }

    [Fact]
    public async Task Without_the_private_CA_the_brokers_certificate_is_refused_and_nothing_is_accepted()
    {
        await using var tls = await TlsBroker.CreateAsync();
        await using var pipeline = await Pipeline.StartAsync(api: false, worker: false);
        pipeline.Settings["RabbitMq:Uri"] = tls.Uri;
        await pipeline.StartApiAsync(waitForBroker: false);

        await Task.Delay(TimeSpan.FromSeconds(2)); // time for a few connection attempts (the pace of the scenario)
        using var response = await pipeline.Http.PostAsJsonAsync("/api/send-email", Jobs.Valid());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(pipeline.ApiServices.GetRequiredService<BrokerConnection>().IsConnected);
    }
}
