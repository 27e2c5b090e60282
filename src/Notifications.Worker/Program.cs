using Microsoft.Extensions.Hosting;
using Notifications.Core.Configuration;
using Notifications.Worker;

return await StartupFailure.RunAsync("worker", () => NotificationsWorker.Create(args).RunAsync());
