using Microsoft.Extensions.Hosting;
using Notifications.Core.Configuration;
using Notifications.Inbound;

return await StartupFailure.RunAsync("inbound", () => NotificationsInbound.Create(args).RunAsync());
