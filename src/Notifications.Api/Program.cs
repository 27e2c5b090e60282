using Notifications.Api;
using Notifications.Core.Configuration;

return await StartupFailure.RunAsync("api", () => NotificationsApi.Create(args).RunAsync());
