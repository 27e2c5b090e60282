using Notifications.Bench.Peer;

// Started by the benchmark (scripts/bench.sh, stage "fairpeer"): `Notifications.Bench.Peer api http://127.0.0.1:PORT` or `… worker`.
var settings = PeerSettings.FromEnvironment();
switch (args.FirstOrDefault())
{
    case "api" when args.Length == 2:
        await PeerApi.RunAsync(settings, args[1]);
        return 0;
    case "worker":
        await PeerWorker.RunAsync(settings);
        return 0;
    default:
        Console.Error.WriteLine("usage: Notifications.Bench.Peer api URL | worker");
        return 2;
}
