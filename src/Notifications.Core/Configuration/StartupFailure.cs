using Microsoft.Extensions.Options;
using Notifications.Core.Topology;

namespace Notifications.Core.Configuration;

/// <summary>Turns what can go wrong at start-up into one line an operator can act on.</summary>
public static partial class StartupFailure
{
    /// <summary>Runs a component; bad configuration prints one line on stderr and returns exit code 1.</summary>
    public static async Task<int> RunAsync(string component, Func<Task> run)
    {
        try
        {
            await run();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (Describe(ex) is { } line)
        {
            await Console.Error.WriteLineAsync($"{component}: cannot start: {line}");
            return 1;
        }
    }

    /// <summary>One line for a configuration problem; null for anything that is a bug and deserves its stack trace.</summary>
    public static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException validation => string.Join("; ", validation.Failures.Select(Unwrapped)),
        TopologyMismatchException mismatch => mismatch.Message,
        InvalidOperationException binding
            when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            binding.Message,
        InvalidDataException json when json.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase) => json.Message,
        AggregateException aggregate => DescribeAll(aggregate.InnerExceptions),
        _ => null,
    };

    /// <summary>Our own rule, without the wrapper DataAnnotations puts around it ("… members: 'X' with the error: '…'.").</summary>
    private static string Unwrapped(string failure) => DataAnnotationFailure().Match(failure) is { Success: true } match
        ? match.Groups["rule"].Value
        : failure;

    [System.Text.RegularExpressions.GeneratedRegex("^DataAnnotation validation failed for '[^']*' members: '[^']*' with the error: '(?<rule>.*)'\\.?$")]
    private static partial System.Text.RegularExpressions.Regex DataAnnotationFailure();

    private static string? DescribeAll(IEnumerable<Exception> exceptions)
    {
        var lines = exceptions.Select(Describe).ToList();
        return lines.Count > 0 && lines.All(line => line is not null) ? string.Join("; ", lines) : null;
    }
}
