using Microsoft.Extensions.Options;
using Notifications.Core.Configuration;
using Notifications.Core.Submission;

namespace Notifications.Api.Submission;

public static class SubmissionRegistration
{
    /// <summary>
    /// The SMTP submission listener, in the API's host: it keeps the client's rules with the very objects the HTTP API
    /// uses (one rate bucket per client whichever way it sends, the paused clients, the queue-depth sample, the publication).
    /// </summary>
    public static void AddSmtpSubmission(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<SubmissionOptions>(SubmissionOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<SubmissionOptions>, SubmissionOptions.Validator>();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddSingleton<SubmissionAuthenticator>();
        builder.Services.AddSingleton<SubmissionFilter>();
        builder.Services.AddSingleton<SubmissionStore>();
        builder.Services.AddSingleton<SubmissionServer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SubmissionServer>());
    }
}
