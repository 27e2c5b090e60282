using System.Net.Sockets;
using System.Text;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// An SMTP client that sends exactly the bytes it is given (MailKit would re-encode a message, and declares SIZE when it
/// can): for the receiver's tests, which need the null sender, undeclared sizes and garbage.
/// </summary>
public sealed class RawSmtp : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    private RawSmtp(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    /// <summary>Connects and reads the greeting (<see cref="Greeting"/>).</summary>
    /// <param name="from">the local address to connect from (another loopback address is another remote to the server).</param>
    public static async Task<RawSmtp> ConnectAsync(int port, System.Net.IPAddress? from = null)
    {
        var client = new TcpClient(new System.Net.IPEndPoint(from ?? System.Net.IPAddress.Loopback, 0)) { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        var smtp = new RawSmtp(client);
        smtp.Greeting = await smtp.ReadReplyAsync();
        return smtp;
    }

    public string Greeting { get; private set; } = "";

    /// <summary>Sends a command line, answers the full reply (every line of a multi-line one).</summary>
    public async Task<string> CommandAsync(string line)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
        return await ReadReplyAsync();
    }

    /// <summary>The connection's stream, for a test that writes more than a message.</summary>
    public NetworkStream Stream => _stream;

    /// <summary>The next reply, whole; throws IOException when the server closed the connection first.</summary>
    public Task<string> ReplyAsync() => ReadReplyAsync();

    /// <summary>Writes text as it is, answering nothing (a part of a message in DATA).</summary>
    public async Task WriteAsync(string text) => await _stream.WriteAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>EHLO, MAIL FROM, each RCPT TO, DATA, the message (dot-stuffed), and the answer to its end; the first refusal ends it.</summary>
    public async Task<string> SendAsync(string mailFrom, IEnumerable<string> recipients, byte[] message, string? mailFromParameters = null)
    {
        await CommandAsync("EHLO mail.example.net");
        var reply = await CommandAsync($"MAIL FROM:<{mailFrom}>{(mailFromParameters is null ? "" : " " + mailFromParameters)}");
        if (!reply.StartsWith("250", StringComparison.Ordinal))
            return reply;
        foreach (var recipient in recipients)
        {
            reply = await CommandAsync($"RCPT TO:<{recipient}>");
            if (!reply.StartsWith("250", StringComparison.Ordinal))
                return reply;
        }
        reply = await CommandAsync("DATA");
        if (!reply.StartsWith("354", StringComparison.Ordinal))
            return reply;
        await _stream.WriteAsync(DotStuff(message));
        return await ReadReplyAsync();
    }

    /// <summary>The message with CRLF line ends, every line starting with '.' doubled, and the final "." line.</summary>
    private static byte[] DotStuff(byte[] message)
    {
        var text = Encoding.Latin1.GetString(message).ReplaceLineEndings("\r\n");
        var stuffed = string.Join("\r\n", text.Split("\r\n").Select(line => line.StartsWith('.') ? "." + line : line));
        if (!stuffed.EndsWith("\r\n", StringComparison.Ordinal))
            stuffed += "\r\n";
        return Encoding.Latin1.GetBytes(stuffed + ".\r\n");
    }

    private async Task<string> ReadReplyAsync()
    {
        var lines = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync() ?? throw new IOException("the server closed the connection; so far: " + lines);
            lines.AppendLine(line);
            if (line.Length < 4 || line[3] != '-')
                return lines.ToString().TrimEnd();
        }
    }

    private bool _disposed;

    /// <summary>QUIT and close; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            await _stream.WriteAsync("QUIT\r\n"u8.ToArray());
        }
        catch (IOException)
        {
            // Already gone.
        }
        _reader.Dispose();
        _client.Dispose();
    }
}
