using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.Cookies;
using Notifications.Core.Bounces;
using Microsoft.AspNetCore.Authentication;
using Notifications.Core.Clients;
using Notifications.Core.Configuration;
using Notifications.Core.Store;

namespace Notifications.Api.Console;

/// <summary>
/// The operator console at <c>/console</c>: Razor Pages rendered on the server (no script), signed in with an operator
/// client's key into a cookie of its own (HttpOnly, SameSite=Strict, Secure over https, sliding expiry, and a session the
/// job store holds for at most <c>Console:MaxSessionLifetime</c> and forgets at sign-out), antiforgery on
/// every POST, and headers that keep anything a mail carries from running in the console's origin.
/// </summary>
public static class ConsoleRegistration
{
    public const string Scheme = "Console";
    public const string Policy = "operator";
    public const string KeyClaim = "notifications:key";

    /// <summary>The session's id in the job store (<see cref="IConsoleSessions"/>): signing out or its lifetime ending removes it there.</summary>
    public const string SessionClaim = "notifications:session";
    public const string Path = "/console";

    /// <summary>How long a console session lasts without a request (sliding).</summary>
    public static readonly TimeSpan SessionIdle = TimeSpan.FromMinutes(30);

    public static IHostApplicationBuilder AddOperatorConsole(this IHostApplicationBuilder builder)
    {
        builder.Services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = "notifications-console";
            cookie.Cookie.Path = Path;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = SessionIdle;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = Path + "/sign-in";
            cookie.LogoutPath = Path + "/sign-out";
            cookie.AccessDeniedPath = Path + "/sign-in";
            cookie.ReturnUrlParameter = "returnUrl";
            cookie.Events.OnValidatePrincipal = async context =>
            {
                // A session lasts only while its client is still an operator with the key it signed in with, and while the
                // store still holds it (not signed out anywhere, not past Console:MaxSessionLifetime).
                var clients = context.HttpContext.RequestServices.GetRequiredService<ClientRegistry>();
                var client = clients.Find(context.Principal?.Identity?.Name);
                if (client is not { IsOperator: true } || context.Principal!.FindFirstValue(KeyClaim) is not { } key || !clients.HasKey(client, key)
                    || context.Principal!.FindFirstValue(SessionClaim) is not { } session || !await IsActiveAsync(context.HttpContext, session))
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(Scheme);
                }
            };
        });
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        builder.Services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "notifications-console-antiforgery";
            antiforgery.Cookie.Path = Path;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.FormFieldName = "__token";
        });
        builder.Services.AddRazorPages(pages =>
        {
            pages.Conventions.AuthorizeFolder("/Console", Policy);
            pages.Conventions.AllowAnonymousToPage("/Console/SignIn");
        }).AddApplicationPart(typeof(ConsoleRegistration).Assembly);
        builder.AddValidatedOptions<ConsoleOptions>(ConsoleOptions.Section);
        builder.AddReputationOptions();
        builder.Services.AddSingleton<DeadLetterView>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DeadLetterView>());
        builder.Services.AddSingleton<ConsoleOperations>();
        builder.Services.AddSingleton<OperatorActions>();
        return builder;
    }

    /// <summary>Whether the store still holds the session; a store that does not answer ends it (sign in again).</summary>
    private static async Task<bool> IsActiveAsync(HttpContext http, string session)
    {
        try
        {
            return await http.RequestServices.GetRequiredService<IConsoleSessions>().IsConsoleSessionActiveAsync(session, http.RequestAborted);
        }
        catch (Exception ex) when (StoreRegistration.IsStoreFailure(ex))
        {
            return false;
        }
    }

    public static WebApplication MapOperatorConsole(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(Path))
            {
                var headers = context.Response.Headers;
                // No script anywhere in the console; a mail's HTML is shown only in a sandboxed frame of its own (see ConsolePages.MailHtml).
                headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; " +
                    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers.CacheControl = "no-store";
            }
            await next();
        });
        ConsolePages.MapStatic(app);
        app.MapRazorPages();
        return app;
    }
}
