using System.Diagnostics;
using System.Text.Json;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;

namespace Notifications.Tests.Infrastructure;

/// <summary>
/// Two verifiers of the bytes a relay received: MimeKit's <see cref="DkimVerifier"/>, and Debian's python3-dkim (dkimpy),
/// which shares no code with the signer. Both find public keys in the test's records, never in DNS.
/// </summary>
public static class DkimVerifiers
{
    /// <summary>Each DKIM-Signature of the message, top first, by MimeKit: (d=, s=, a=, verified).</summary>
    public static List<(string Domain, string Selector, string Algorithm, bool Verified)> MimeKit(byte[] raw, IReadOnlyDictionary<string, string> records)
    {
        using var stream = new MemoryStream(raw);
        var message = MimeMessage.Load(stream);
        var verifier = new DkimVerifier(new RecordLocator(records)) { MinimumRsaKeyLength = 1024 };
        verifier.Enable(DkimSignatureAlgorithm.Ed25519Sha256);
        var results = new List<(string, string, string, bool)>();
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature))
        {
            var tags = header.Value.Split(';').Select(t => t.Trim().Split('=', 2)).Where(t => t.Length == 2)
                .ToDictionary(t => t[0].Trim(), t => t[1].Trim());
            results.Add((tags["d"], tags["s"], tags["a"], verifier.Verify(message, header)));
        }
        return results;
    }

    /// <summary>Each DKIM-Signature of the message, top first, by python3-dkim: (d=, s=, verified).</summary>
    public static async Task<List<(string Domain, string Selector, bool Verified)>> Independent(byte[] raw, IReadOnlyDictionary<string, string> records)
    {
        // Debian's interpreter: the one the python3-dkim package installs into (scripts/test.sh installs it).
        const string Script = """
            import dkim, json, sys
            records = json.loads(sys.argv[1])
            message = sys.stdin.buffer.read()
            def dns(name, timeout=5):
                return records.get(name.decode().rstrip('.').lower(), '').encode()
            out = []
            count = sum(1 for line in message.split(b'\r\n\r\n')[0].split(b'\r\n') if line.lower().startswith(b'dkim-signature:'))
            for i in range(count):
                d = dkim.DKIM(message)
                try:
                    ok = d.verify(idx=i, dnsfunc=dns)
                except dkim.DKIMException:
                    ok = False  # a body hash mismatch is raised, not returned
                out.append({'d': d.domain.decode() if d.domain else '', 's': d.selector.decode() if d.selector else '', 'ok': bool(ok)})
            print(json.dumps(out))
            """;
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", Script, JsonSerializer.Serialize(records.ToDictionary(r => r.Key.ToLowerInvariant(), r => r.Value))])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var python = Process.Start(start) ?? throw new InvalidOperationException("/usr/bin/python3 did not start");
        await python.StandardInput.BaseStream.WriteAsync(raw);
        python.StandardInput.Close();
        var output = await python.StandardOutput.ReadToEndAsync();
        var error = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        if (python.ExitCode != 0)
            throw new InvalidOperationException($"python3-dkim failed (scripts/test.sh installs python3-dkim and python3-nacl): {error}");
        return [.. JsonDocument.Parse(output).RootElement.EnumerateArray()
            .Select(r => (r.GetProperty("d").GetString()!, r.GetProperty("s").GetString()!, r.GetProperty("ok").GetBoolean()))];
    }

    private sealed class RecordLocator(IReadOnlyDictionary<string, string> records) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            records.TryGetValue($"{selector}._domainkey.{domain}", out var record)
                ? GetPublicKey(record)
                : throw new InvalidOperationException($"no record for {selector}._domainkey.{domain}");

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector,
            CancellationToken cancellationToken = default) => Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
