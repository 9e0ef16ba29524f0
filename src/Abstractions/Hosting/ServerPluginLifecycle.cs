using Microsoft.Extensions.Hosting;

namespace Compose.Hosting;

/// <summary>
/// Ties plugin lifecycles to the generic host: initialisation is awaited in <see cref="StartingAsync"/>, which
/// the host runs before any hosted service starts (so before the server takes requests); plugins exit in
/// <see cref="StoppedAsync"/>, after the server has stopped taking requests. <see cref="StartedAsync"/> records the
/// init durations, and the start-up spans for a tracer that began listening only when the host started (the
/// OpenTelemetry SDK does).
/// </summary>
internal sealed class ServerPluginLifecycle(ServerPluginRuntime runtime) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => runtime.AwaitInitializationAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        runtime.RecordInitTelemetry();
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => runtime.ExitAsync(cancellationToken);
}
