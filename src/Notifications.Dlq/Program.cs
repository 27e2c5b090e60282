using Notifications.Dlq;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Stop between messages: what was not replayed or deleted yet goes back to the DLQ.
    e.Cancel = true;
    cancel.Cancel();
};
return await DlqTool.RunAsync(args, Console.Out, Console.Error, cancellationToken: cancel.Token);
