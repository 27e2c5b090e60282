using System.Diagnostics;
using System.Net;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// A broker a test may stop and start: the second throwaway node scripts/test.sh starts
/// (<c>RABBITMQ_FAULT_URI</c>, <c>RABBITMQ_FAULT_CTL</c>). Without it (Docker users), a gate in front
/// of the shared broker cuts every connection instead — the clients see the same outage.
/// </summary>
public sealed class FaultBroker : IAsyncDisposable
{
    private readonly string? _ctl;
    private readonly TcpGate? _gate;

    private FaultBroker(string uri, string? ctl, TcpGate? gate)
    {
        Uri = uri;
        _ctl = ctl;
        _gate = gate;
    }

    public string Uri { get; }

    public static async Task<FaultBroker> CreateAsync()
    {
        var uri = Environment.GetEnvironmentVariable("RABBITMQ_FAULT_URI");
        var ctl = Environment.GetEnvironmentVariable("RABBITMQ_FAULT_CTL");
        if (!string.IsNullOrWhiteSpace(uri) && !string.IsNullOrWhiteSpace(ctl))
            return new FaultBroker(uri, ctl, null);
        var gate = await TcpGate.ToBrokerAsync();
        gate.Open();
        return new FaultBroker(await gate.UriAsync(), null, gate);
    }

    public Task StopAsync() => _gate is null ? RunCtlAsync("stop") : Done(_gate.Close);

    public Task StartAsync() => _gate is null ? RunCtlAsync("start") : Done(_gate.Open);

    /// <summary>A memory alarm (the broker blocks publishers) raised or cleared with rabbitmqctl set_vm_memory_high_watermark.</summary>
    public Task MemoryAlarmAsync(bool on) => _gate is null
        ? RunCtlAsync(on ? "alarm-on" : "alarm-off")
        : BrokerEnvironment.RabbitMqCtlAsync("set_vm_memory_high_watermark", on ? "0.0000001" : "0.4");


    private async Task RunCtlAsync(string action)
    {
        var parts = _ctl!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        using var process = Process.Start(new ProcessStartInfo(parts[0], [.. parts[1..], action]) { RedirectStandardError = true })!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{_ctl} {action} failed: {await process.StandardError.ReadToEndAsync()}");
    }

    private static Task Done(Action action)
    {
        action();
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_gate is not null)
            await _gate.DisposeAsync();
        else
            await RunCtlAsync("start"); // leave the node running for the next test
    }
}
