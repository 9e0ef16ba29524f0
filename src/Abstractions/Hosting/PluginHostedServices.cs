using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compose.Hosting;

/// <summary>
/// The hosted services that one plugin's <c>ConfigureServices</c> registered, owned by that plugin: they start only
/// while it serves, an exception from one never reaches the generic host (so it never stops the host, whatever its
/// <c>BackgroundServiceExceptionBehavior</c>), a crash marks the plugin <see cref="ServerPluginState.Degraded"/> and
/// restarts the service with exponential back-off, and <see cref="ComposeOptions.MaxCrashes"/> crashes within
/// <see cref="ComposeOptions.CrashWindow"/> fail the plugin and leave its services stopped (Mattermost's rule for
/// crashed plugins: three crashes in an hour deactivate it).
/// </summary>
/// <remarks>
/// <see cref="Capture"/> replaces each <see cref="IHostedService"/> registration the plugin added with a supervisor
/// in the same position (so start order is kept) and moves the original to a private keyed registration, so the
/// container still creates and disposes it as registered. A restart calls <see cref="IHostedService.StopAsync"/> and
/// then <see cref="IHostedService.StartAsync"/> on the same instance: a <see cref="BackgroundService"/> then runs
/// <c>ExecuteAsync</c> again with a fresh stopping token.
/// </remarks>
internal sealed class PluginHostedServices(ServerPluginEntry entry, ComposeOptions options)
{
    /// <summary>The longest back-off between restarts.</summary>
    private static readonly TimeSpan MaxRestartDelay = TimeSpan.FromMinutes(5);

    private readonly object _gate = new();
    private readonly List<SupervisedService> _services = [];
    private readonly Queue<long> _crashes = new();
    private int _count;
    private volatile bool _hostStopping;
    private ILogger _logger = NullLogger.Instance;

    /// <summary>Gets the number of hosted services the plugin registered.</summary>
    public int Count => _count;

    /// <summary>Gets or sets what runs when the plugin fails because of its crashes (the runtime re-renders its routes).</summary>
    public Action? Failed { get; set; }

    /// <summary>Gets or sets where restarts are counted (<c>compose.plugin.restarts</c>).</summary>
    public ComposeInstruments? Instruments { get; set; }

    private PluginLogScope Scope => field ??= new PluginLogScope(entry.Descriptor.Id);

    private ServerPluginDescriptor Descriptor => entry.Descriptor;

    /// <summary>
    /// Takes ownership of the non-keyed <see cref="IHostedService"/> registrations at index <paramref name="from"/> and
    /// after, which the plugin's <c>ConfigureServices</c> just added.
    /// </summary>
    /// <param name="services">The host's service collection.</param>
    /// <param name="from">The collection's count before the plugin's <c>ConfigureServices</c> ran.</param>
    public void Capture(IServiceCollection services, int from)
    {
        var end = services.Count;
        for (var i = from; i < end; i++)
        {
            var original = services[i];
            if (original.ServiceType != typeof(IHostedService) || original.IsKeyedService)
            {
                continue;
            }

            var key = new HostedServiceKey(Descriptor.Id, _count++);
            services.Add(Keyed(original, key));
            services[i] = ServiceDescriptor.Singleton<IHostedService>(sp => Supervise(sp, key));
        }
    }

    /// <summary>
    /// Starts the plugin's services again after it was switched on (they were stopped when it was switched off). The
    /// operator's off-and-on is a fresh start: the crash history is cleared and a Degraded plugin reads Running again,
    /// as Mattermost gives a re-activated plugin a new health record.
    /// </summary>
    public Task SwitchOnAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _crashes.Clear();
            if (entry.LifecycleState == ServerPluginState.Degraded)
            {
                entry.SetState(ServerPluginState.Running);
            }
        }

        return Task.WhenAll(Snapshot().Select(service => service.StartAsync(cancellationToken)));
    }

    /// <summary>Stops the plugin's services (it was switched off, or it failed).</summary>
    public Task StopAllAsync(CancellationToken cancellationToken)
        => Task.WhenAll(Snapshot().Select(service => service.StopAsync(cancellationToken)));

    /// <summary>The run-once services among the plugin's hosted services (those created so far), with their lease state.</summary>
    public IReadOnlyList<Store.RunOnceServiceStatus> RunOnceStatuses()
    {
        List<Store.RunOnceServiceStatus>? statuses = null;
        foreach (var service in Snapshot())
        {
            if (service.Inner is Store.RunOnceHostedService once)
            {
                (statuses ??= []).Add(once.Status);
            }
        }

        return statuses ?? (IReadOnlyList<Store.RunOnceServiceStatus>)[];
    }

    private SupervisedService[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _services];
        }
    }

    private SupervisedService Supervise(IServiceProvider services, HostedServiceKey key)
    {
        var service = new SupervisedService(this, services, key);
        lock (_gate)
        {
            if (ReferenceEquals(_logger, NullLogger.Instance))
            {
                _logger = services.GetService<ILoggerFactory>()?.CreateLogger("Compose.ServerPlugins") ?? NullLogger.Instance;
            }

            _services.Add(service);
        }

        return service;
    }

    /// <summary>Whether the plugin's services may run now: it serves (Running or Degraded) and is not switched off.</summary>
    private bool MayRun => !_hostStopping && entry.State is ServerPluginState.Running or ServerPluginState.Degraded;

    /// <summary>Counts a crash and decides: restart after a back-off, or fail the plugin.</summary>
    private void OnCrash(SupervisedService service, Exception exception)
    {
        if (_hostStopping || entry.LifecycleState is ServerPluginState.Failed or ServerPluginState.Stopped)
        {
            Log.HostedServiceEnded(_logger, exception, Descriptor.Id, service.Name, exception.Message);
            return;
        }

        int crashes;
        lock (_gate)
        {
            var now = Environment.TickCount64;
            var window = (long)options.CrashWindow.TotalMilliseconds;
            while (_crashes.Count > 0 && now - _crashes.Peek() >= window)
            {
                _crashes.Dequeue();
            }

            _crashes.Enqueue(now);
            crashes = _crashes.Count;
            if (crashes < options.MaxCrashes)
            {
                entry.SetDegraded($"Hosted service {service.Name} crashed ({crashes} of {options.MaxCrashes} allowed within {options.CrashWindow}): {exception.Message}", now + window);
            }
        }

        if (crashes >= options.MaxCrashes)
        {
            Log.HostedServiceFailedPlugin(_logger, exception, Descriptor.Id, Descriptor.Name, service.Name, crashes, options.CrashWindow, exception.Message);
            entry.SetFailed(
                $"Hosted service {service.Name} crashed {crashes} times within {options.CrashWindow}; the plugin is stopped: {exception.Message}",
                $"Server plugin '{Descriptor.Id}' ({Descriptor.Name}) has failed and is not serving requests.");
            Failed?.Invoke();
            _ = StopAllAsync(CancellationToken.None);
            return;
        }

        var delay = TimeSpan.FromTicks(Math.Min(options.RestartDelay.Ticks * (1L << Math.Min(crashes - 1, 20)), MaxRestartDelay.Ticks));
        Log.HostedServiceCrashed(_logger, exception, Descriptor.Id, service.Name, exception.Message, crashes, delay);
        service.ScheduleRestart(delay);
    }

    private static ServiceDescriptor Keyed(ServiceDescriptor original, HostedServiceKey key)
    {
        if (original.ImplementationInstance is { } instance)
        {
            return new ServiceDescriptor(typeof(IHostedService), key, instance);
        }

        if (original.ImplementationFactory is { } factory)
        {
            return new ServiceDescriptor(typeof(IHostedService), key, (sp, _) => factory(sp), original.Lifetime);
        }

        return new ServiceDescriptor(typeof(IHostedService), key, original.ImplementationType!, original.Lifetime);
    }

    /// <summary>The private key of a plugin's hosted service registration.</summary>
    private sealed record HostedServiceKey(string PluginId, int Index);

    /// <summary>
    /// Stands in the host's hosted services for one service of the plugin: forwards start and stop, watches a
    /// <see cref="BackgroundService"/>'s <c>ExecuteTask</c>, and restarts after a crash. Transitions are serialised.
    /// </summary>
    private sealed class SupervisedService(PluginHostedServices owner, IServiceProvider services, HostedServiceKey key) : IHostedService
    {
        private readonly SemaphoreSlim _transition = new(1, 1);
        private IHostedService? _inner;
        private bool _running;
        private int _generation;
        private CancellationTokenSource? _restart;
        private IHostApplicationLifetime? _lifetime;

        public string Name => _inner?.GetType().Name ?? $"#{key.Index}";

        /// <summary>Gets the plugin's service, once created (at its first start).</summary>
        public IHostedService? Inner => Volatile.Read(ref _inner);

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await _transition.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await StartCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _transition.Release();
            }
        }

        /// <summary>Called by the host at shutdown (and by the owner when the plugin is switched off or failed).</summary>
        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if ((_lifetime ??= services.GetService<IHostApplicationLifetime>())?.ApplicationStopping.IsCancellationRequested == true)
            {
                owner._hostStopping = true; // no restart from now on
            }

            Volatile.Read(ref _restart)?.Cancel();
            await _transition.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await StopCoreAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _transition.Release();
            }
        }

        public void ScheduleRestart(TimeSpan delay)
        {
            var restart = new CancellationTokenSource();
            Interlocked.Exchange(ref _restart, restart)?.Cancel();
            _ = RestartAsync(delay, restart.Token);
        }

        private async Task RestartAsync(TimeSpan delay, CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                await _transition.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await StopCoreAsync(cancellationToken).ConfigureAwait(false);
                    if (owner.MayRun)
                    {
                        Log.HostedServiceRestarting(owner._logger, owner.Descriptor.Id, Name);
                        owner.Instruments?.Restarts.Add(1, new KeyValuePair<string, object?>(ComposeTelemetry.PluginIdTag, owner.Descriptor.Id));
                        await StartCoreAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _transition.Release();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Switched off, failed or shutting down before the restart was due.
            }
        }

        private async Task StartCoreAsync(CancellationToken cancellationToken)
        {
            if (_running || !owner.MayRun)
            {
                return;
            }

            var generation = ++_generation;
            _running = true;

            // The plugin's log scope flows into the service's ExecuteAsync, which StartAsync starts.
            using var scope = owner.Scope.Begin(owner._logger);
            try
            {
                _inner ??= services.GetRequiredKeyedService<IHostedService>(key);
                if (_inner is IHostedLifecycleService lifecycle)
                {
                    await lifecycle.StartingAsync(cancellationToken).ConfigureAwait(false);
                    await lifecycle.StartAsync(cancellationToken).ConfigureAwait(false);
                    await lifecycle.StartedAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _inner.StartAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                // StartAsync threw (a BackgroundService whose ExecuteAsync throws before its first await does too).
                owner.OnCrash(this, ex);
                return;
            }

            if (_inner is BackgroundService { ExecuteTask: { IsCompleted: false } execute })
            {
                _ = WatchAsync(execute, generation);
            }
        }

        private async Task WatchAsync(Task execute, int generation)
        {
            try
            {
                await execute.ConfigureAwait(false);
            }
            catch (Exception ex) when (Volatile.Read(ref _generation) == generation && _running)
            {
                owner.OnCrash(this, ex);
            }
            catch (Exception)
            {
                // Ended by our own StopAsync (shutdown, switched off, a restart): not a crash.
            }
        }

        private async Task StopCoreAsync(CancellationToken cancellationToken)
        {
            if (!_running || _inner is null)
            {
                _running = false;
                return;
            }

            _running = false;
            try
            {
                if (_inner is IHostedLifecycleService lifecycle)
                {
                    await lifecycle.StoppingAsync(cancellationToken).ConfigureAwait(false);
                    await lifecycle.StopAsync(cancellationToken).ConfigureAwait(false);
                    await lifecycle.StoppedAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _inner.StopAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.HostedServiceStopFailed(owner._logger, ex, owner.Descriptor.Id, Name, ex.Message);
            }
        }
    }
}
