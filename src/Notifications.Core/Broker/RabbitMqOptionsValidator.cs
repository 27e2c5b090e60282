using Microsoft.Extensions.Options;

namespace Notifications.Core.Broker;

public sealed class RabbitMqOptionsValidator : IValidateOptions<RabbitMqOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqOptions options)
    {
        if (options.Uri is null)
            return ValidateOptionsResult.Success; // [Required] reports it
        if (!options.Uri.IsAbsoluteUri || options.Uri.Scheme is not ("amqp" or "amqps"))
            return ValidateOptionsResult.Fail("RabbitMq:Uri must be an absolute amqp:// or amqps:// URI");
        if (Configuration.PrivateCertificateAuthority.Problem("RabbitMq:CaCertificate", options.CaCertificate) is { } problem)
            return ValidateOptionsResult.Fail(problem);
        foreach (var host in options.Hosts)
            if (RabbitMqOptions.ParseNode(host, 5672) is null)
                return ValidateOptionsResult.Fail($"RabbitMq:Hosts: '{host}' is not host:port (e.g. 10.0.0.1:5672)");
        if (options.Prefetch < options.Concurrency)
            return ValidateOptionsResult.Fail(
                $"RabbitMq:Prefetch ({options.Prefetch}) must be at least RabbitMq:Concurrency ({options.Concurrency}), or workers sit idle");
        return ValidateOptionsResult.Success;
    }
}
