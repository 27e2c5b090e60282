# One image recipe for the four programs (API, worker, inbound receiver, dlq); docker-compose.yml picks the project:
#   docker build --build-arg PROJECT=Notifications.Worker --build-arg ENTRY=Notifications.Worker.dll .
ARG RUNTIME=runtime
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PROJECT=Notifications.Api
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props appsettings.json ./
COPY src/ src/
RUN dotnet publish src/${PROJECT}/${PROJECT}.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/${RUNTIME}:10.0
ARG ENTRY=Notifications.Api.dll
ENV ENTRY=${ENTRY}
WORKDIR /app
COPY --from=build /app ./
# The job store lives in /data, a named volume in docker-compose.yml: made here so the volume starts owned by the app's user.
RUN mkdir -p /data && chown "$APP_UID" /data
ENV Store__Path=/data/notifications.db
USER $APP_UID
ENTRYPOINT ["sh", "-c", "exec dotnet \"$ENTRY\" \"$@\"", "--"]
