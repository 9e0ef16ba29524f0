using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

// Plugins only TelemetryTests switch on, so the process-wide "Compose" meter and activity source carry their ids
// from that test class alone, although other test classes run hosts in parallel.

[ServerPlugin("telemetry-a")]
public sealed class TelemetryAPlugin(ILogger<TelemetryAPlugin> logger) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
        => services.AddHostedService<TelemetryWorker>();

    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/work/{n:int}", (int n, ILogger<TelemetryAPlugin> log) =>
        {
            log.LogInformation("telemetry-a handled {N}", n);
            return n * 2;
        });
        await Task.Delay(50, cancellationToken);
        logger.LogInformation("telemetry-a initialized");
    }

    public Task ExitAsync(CancellationToken cancellationToken)
    {
        logger.LogInformation("telemetry-a exiting");
        return Task.CompletedTask;
    }

    /// <summary>Logs once from its ExecuteAsync, after an await.</summary>
    public sealed class TelemetryWorker(ILogger<TelemetryWorker> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Yield();
            logger.LogInformation("telemetry-a worker running");
        }
    }
}

[ServerPlugin("telemetry-b")]
public sealed class TelemetryBPlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/ping", async () =>
        {
            await Task.Yield();
            return "b";
        });
        return Task.CompletedTask;
    }
}

[ServerPlugin("telemetry-failing")]
public sealed class TelemetryFailingPlugin : IServerPlugin
{
    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        await Task.Delay(20, cancellationToken);
        throw new TimeZoneNotFoundException("telemetry failure");
    }
}
