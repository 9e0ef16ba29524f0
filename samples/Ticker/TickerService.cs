using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ticker;

/// <summary>
/// The plugin's long-lived background task (a server-only scenario in Luker's guide): a hosted service that ticks every
/// <see cref="TickerOptions.IntervalMilliseconds"/> and records each tick in <see cref="TickerState"/>. It starts and
/// stops with the host: when the host stops, the loop ends without an error.
/// </summary>
/// <param name="state">Where the ticks are recorded.</param>
/// <param name="options">The plugin's settings.</param>
/// <param name="timeProvider">The clock the timer and the tick times come from.</param>
/// <param name="logger">The service's logger.</param>
public sealed class TickerService(
    TickerState state,
    IOptions<TickerOptions> options,
    TimeProvider timeProvider,
    ILogger<TickerService> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Invalid settings fail TickerPlugin.InitAsync (options validation), and Compose never starts the hosted
        // services of a failed plugin; were this to throw anyway, Compose would restart it, never stop the host.
        var interval = TimeSpan.FromMilliseconds(options.Value.IntervalMilliseconds);

        Log.Started(logger, interval.TotalMilliseconds);
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                state.Tick(timeProvider.GetUtcNow());
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping: a clean end, not a failure.
        }

        Log.Stopped(logger, state.Current.Count);
    }
}
