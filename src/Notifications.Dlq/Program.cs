using Notifications.Dlq;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Stop between messages: what was not replayed or deleted yet goes back to the DLQ.
    e.Cancel = true;
    cancel.Cancel();
};
// Buffered when it goes to a file or a pipe: a replay writes a line per letter, and a write per line cost more than the replay.
// On a terminal every line shows at once.
var output = Console.IsOutputRedirected
    ? new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024) { AutoFlush = false }
    : Console.Out;
try
{
    return await DlqTool.RunAsync(args, output, Console.Error, cancellationToken: cancel.Token);
}
finally
{
    await output.FlushAsync(CancellationToken.None);
}
