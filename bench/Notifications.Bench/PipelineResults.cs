namespace Notifications.Bench;

public sealed record Percentile(double P50, double P95, double P99, double Max);

public sealed class MemorySamples
{
    public long ApiStart { get; set; }
    public long ApiTenth { get; set; }
    public long ApiEnd { get; set; }
    public long WorkerStart { get; set; }
    public long WorkerTenth { get; set; }
    public long WorkerEnd { get; set; }
}

public sealed record PipelineResult(
    int Count, int Clients, int Accepted, int Errors,
    double AcceptedPerSecond, double DeliveredPerSecond,
    Percentile PostLatencyMs, Percentile EndToEndMs,
    string ExactlyOnce, MemorySamples Memory, double[] DeliveredPerSecondByTenth, Dictionary<string, double> CpuMsPerJob,
    ApartResult? EachSideAlone, FloodResult? UnderAFlood, GcFigures? WorkerGc = null);

/// <param name="ApiCpuMsPerRefusal">the API's CPU per 401 while the flood ran alone.</param>
public sealed record FloodResult(
    double AcceptedPerSecond, int Errors, Percentile PostLatencyMs, int Refused, double RefusedPerSecond, double ApiCpuMsPerRefusal,
    string ExactlyOnce);

public sealed record ApartResult(
    double ApiAcceptedPerSecond, int ApiErrors, Percentile ApiPostLatencyMs, Dictionary<string, double> ApiCpuMsPerJob,
    double WorkerDeliveredPerSecond, Dictionary<string, double> WorkerCpuMsPerJob, string ExactlyOnce, BatchResult? Batch = null);

/// <summary>The API alone taking jobs through the batch endpoint.</summary>
public sealed record BatchResult(int Size, int Clients, double AcceptedPerSecond, int Errors, Dictionary<string, double> CpuMsPerJob);
