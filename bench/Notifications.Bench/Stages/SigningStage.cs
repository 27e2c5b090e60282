using System.Diagnostics;
using System.Security.Cryptography;
using MimeKit;
using Notifications.Worker.SendPath;
using Notifications.Worker.Sending;
using Notifications.Worker.Signing;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Notifications.Bench;

/// <summary>
/// What DKIM costs: CPU per mail of the worker's own signing (RSA 2048, Ed25519) against the signature primitive alone on
/// the same key, and the pipeline with both signatures on every mail.
/// </summary>
public sealed class SigningStage : IBenchStage
{
    public string Name => "signing";

    public async Task RunAsync(BenchContext context)
    {
        var folder = Directory.CreateTempSubdirectory("bench-dkim-").FullName;
        try
        {
            var (rsaFile, edFile) = WriteKeys(folder);
            var rsa = DkimKey.Load(new DkimKeyOptions { Domain = "example.com", Selector = "bench-rsa", KeyFile = rsaFile }, "bench RSA");
            var ed = DkimKey.Load(new DkimKeyOptions { Domain = "example.com", Selector = "bench-ed", KeyFile = edFile }, "bench Ed25519");
            var mails = Math.Clamp(context.Options.Count / 10, 50, 2_000);
            Console.Error.WriteLine($"DKIM signing cost ({mails} mails per key), then the pipeline with both signatures...");
            Measure(null, 50); // warm-up
            Measure(rsa, 20);
            Measure(ed, 20);
            var unsigned = Measure(null, mails);
            var rsaMs = Measure(rsa, mails) - unsigned;
            var edMs = Measure(ed, mails) - unsigned;
            var (rsaPrimitive, edPrimitive) = Primitives(rsaFile, edFile, mails);

            var o = context.Options;
            var settings = new Dictionary<string, string>
            {
                ["Dkim__Keys__0__Domain"] = "example.com", ["Dkim__Keys__0__Selector"] = "bench-rsa", ["Dkim__Keys__0__KeyFile"] = rsaFile,
                ["Dkim__Keys__1__Domain"] = "example.com", ["Dkim__Keys__1__Selector"] = "bench-ed", ["Dkim__Keys__1__KeyFile"] = edFile,
            };
            var pipeline = await new PipelineRun(context.Root, context.Broker, context.PrefixFor("signing"), context.Sink, o.Count, o.Clients,
                o.Prefetch, o.Concurrency, o.Connections, settings, mainOnly: true).RunAsync();
            context.Results.Signing = new SigningResult(mails, unsigned, rsaMs, edMs, rsaPrimitive, edPrimitive, pipeline);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>CPU ms per mail to build, fix for the wire, sign with <paramref name="key"/> (none: unsigned) and write it out.</summary>
    private static double Measure(DkimKey? key, int mails)
    {
        var started = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < mails; i++)
        {
            var message = MimeMessageFactory.Build(SampleJob.Job($"bench-{i}"));
            message.Prepare(EncodingConstraint.SevenBit);
            key?.Signer.Sign(FormatOptions.Default, message, SignStep.HeadersOf(message));
            message.WriteTo(Stream.Null);
        }
        return (Process.GetCurrentProcess().TotalProcessorTime - started).TotalMilliseconds / mails;
    }

    /// <summary>CPU ms of one signature alone on the same keys: .NET's RSA.SignHash, BouncyCastle's Ed25519 (what MimeKit uses).</summary>
    private static (double Rsa, double Ed25519) Primitives(string rsaFile, string edFile, int count)
    {
        using var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(rsaFile));
        var hash = SHA256.HashData("the canonical headers of a mail"u8);
        var started = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < count; i++)
            rsa.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var rsaMs = (Process.GetCurrentProcess().TotalProcessorTime - started).TotalMilliseconds / count;

        using var reader = File.OpenText(edFile);
        var key = (Ed25519PrivateKeyParameters)new Org.BouncyCastle.OpenSsl.PemReader(reader).ReadObject();
        started = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < count; i++)
        {
            var signer = new Ed25519Signer();
            signer.Init(true, key);
            signer.BlockUpdate(hash, 0, hash.Length);
            signer.GenerateSignature();
        }
        return (rsaMs, (Process.GetCurrentProcess().TotalProcessorTime - started).TotalMilliseconds / count);
    }

    private static (string Rsa, string Ed25519) WriteKeys(string folder)
    {
        using var rsa = RSA.Create(2048);
        var rsaFile = Path.Combine(folder, "rsa.pem");
        File.WriteAllText(rsaFile, rsa.ExportPkcs8PrivateKeyPem());
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var info = PrivateKeyInfoFactory.CreatePrivateKeyInfo(generator.GenerateKeyPair().Private);
        var edFile = Path.Combine(folder, "ed25519.pem");
        File.WriteAllText(edFile, PemEncoding.WriteString("PRIVATE KEY", info.GetEncoded()));
        return (rsaFile, edFile);
    }

    public void Report(BenchContext context, ReportTable table)
    {
        if (context.Results.Signing is not { } s)
            return;
        table.Row($"DKIM: CPU per mail to sign (build, 7-bit, write: {s.UnsignedMs:0.000} ms unsigned), {s.Mails} mails",
            $"RSA 2048 {s.RsaMs:0.000} ms (the primitive alone: {s.RsaPrimitiveMs:0.000} ms, {s.RsaMs / s.RsaPrimitiveMs:0.0}×), " +
            $"Ed25519 {s.Ed25519Ms:0.000} ms (alone: {s.Ed25519PrimitiveMs:0.000} ms, {s.Ed25519Ms / s.Ed25519PrimitiveMs:0.0}×)");
        var unsigned = context.Results.Pipeline;
        table.Row("pipeline with RSA and Ed25519 signatures on every mail: delivered",
            $"{s.Pipeline.DeliveredPerSecond:0} mail/s" + (unsigned is null ? "" : $" (unsigned, same run: {unsigned.DeliveredPerSecond:0})") +
            $"; CPU {ReportTable.Cpu(s.Pipeline.CpuMsPerJob)}; each once: {s.Pipeline.ExactlyOnce}");
    }
}

/// <param name="UnsignedMs">CPU ms per mail to build, prepare and write a mail without signing it; the others are on top of it.</param>
public sealed record SigningResult(int Mails, double UnsignedMs, double RsaMs, double Ed25519Ms, double RsaPrimitiveMs, double Ed25519PrimitiveMs,
    PipelineResult Pipeline)
{
    public string ExactlyOnce => Pipeline.ExactlyOnce;
}
