using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compose.Store;

/// <summary>Registers hosted services that run on one replica of the deployment at a time.</summary>
public static class RunOnceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TService"/> so that it runs on exactly one replica at a time: a wrapping
    /// <see cref="IHostedService"/> waits for the lease <paramref name="leaseName"/> of the registered
    /// <see cref="PluginStoreBackend"/>, starts the service once it holds it, and stops it if the lease is lost. Another
    /// replica takes over when the holder stops or dies (with <c>Compose.PostgreSql</c>, within its
    /// <c>LeaseCheckInterval</c>, default 5 s). With no shared backend the lease is always held: the service just runs.
    /// </summary>
    /// <remarks>
    /// Call it from a plugin's <c>ConfigureServices</c>: the wrapper is an ordinary hosted service, so Compose starts
    /// it only while the plugin serves, restarts it after a crash and stops it when the plugin is switched off.
    /// <typeparamref name="TService"/> itself is registered as a singleton (resolvable, not a hosted service of its own).
    /// </remarks>
    /// <typeparam name="TService">The hosted service, for example a <see cref="BackgroundService"/>.</typeparam>
    /// <param name="services">The service collection.</param>
    /// <param name="leaseName">The lease's name, the same on every replica; default the type's full name. Prefix it with the plugin id.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddRunOnceHostedService<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TService>(this IServiceCollection services, string? leaseName = null)
        where TService : class, IHostedService
    {
        ArgumentNullException.ThrowIfNull(services);
        var name = leaseName ?? typeof(TService).FullName ?? typeof(TService).Name;
        ArgumentException.ThrowIfNullOrEmpty(name, nameof(leaseName));
        services.TryAddSingleton<TService>();
        services.AddSingleton<IHostedService>(sp => new RunOnceHostedService(
            name,
            sp.GetRequiredService<TService>(),
            sp.GetService<PluginStoreBackend>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("Compose.Store") ?? NullLogger.Instance)
        {
            ReplicaId = PluginStoreBackend.ReplicaIdOf(sp),
        });
        return services;
    }
}

/// <summary>
/// The lease-holding wrapper of <see cref="RunOnceServiceCollectionExtensions.AddRunOnceHostedService{TService}"/>:
/// runs the inner service while this replica holds the lease. It is a <see cref="BackgroundService"/> whose task
/// fails when the inner service's start throws or its own <see cref="BackgroundService.ExecuteTask"/> fails, so
/// Compose's supervision of plugin hosted services sees (and restarts) a crash of the inner service.
/// </summary>
public sealed class RunOnceHostedService : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly IHostedService _inner;
    private readonly PluginStoreBackend? _backend;
    private readonly ILogger _logger;
    private volatile bool _running;
    private volatile PluginLeaseHolder? _holder;
    private volatile bool _held;

    /// <summary>Creates the wrapper.</summary>
    /// <param name="leaseName">The lease's name.</param>
    /// <param name="inner">The service to run while the lease is held.</param>
    /// <param name="backend">The backend whose lease is taken; <see langword="null"/> holds the lease always (the embedded default).</param>
    /// <param name="logger">Logs lease changes.</param>
    public RunOnceHostedService(string leaseName, IHostedService inner, PluginStoreBackend? backend, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(leaseName);
        LeaseName = leaseName;
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _backend = backend;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Gets the lease's name.</summary>
    public string LeaseName { get; }

    /// <summary>Gets whether the inner service runs on this replica now (this replica holds the lease).</summary>
    public bool IsRunning => _running;

    /// <summary>
    /// Gets this replica's id, as the lease holder is named: the backend's <see cref="PluginStoreBackend.ReplicaId"/>,
    /// else (no backend) <see cref="PluginStoreBackend.ProcessReplicaId"/> unless set at registration (<c>Compose:Store:ReplicaId</c>).
    /// </summary>
    public string ReplicaId
    {
        get => _backend?.ReplicaId ?? field ?? PluginStoreBackend.ProcessReplicaId;
        init => field = value;
    }

    /// <summary>
    /// Gets who holds the lease as this replica last saw it: this replica while it holds it; another replica as the
    /// backend reported at its last check while this one waits (with <c>Compose.PostgreSql</c>, at most one
    /// <c>LeaseCheckInterval</c> old); <see langword="null"/> when nobody holds it, the backend cannot tell (unreachable),
    /// or this replica does not take part (the plugin is stopped or switched off).
    /// </summary>
    public PluginLeaseHolder? Holder => _holder;

    /// <summary>Gets the lease's state on this replica, as the catalog and the health checks show it.</summary>
    public RunOnceServiceStatus Status
    {
        get
        {
            var held = _held;
            var holder = _holder;
            return new RunOnceServiceStatus(LeaseName, holder?.ReplicaId, held, holder?.Since);
        }
    }

    /// <summary>Gets the wrapped service.</summary>
    public IHostedService Inner => _inner;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunLeasedAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            _held = false;
            _holder = null;
        }
    }

    private async Task RunLeasedAsync(CancellationToken stoppingToken)
    {
        if (_backend is null)
        {
            _held = true;
            _holder = new PluginLeaseHolder(ReplicaId, DateTimeOffset.UtcNow);
            await RunWhileAsync(CancellationToken.None, stoppingToken).ConfigureAwait(false);
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            IPluginLease lease;
            try
            {
                lease = await _backend.AcquireLeaseAsync(LeaseName, holder => _holder = holder, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _holder = null; // unknown while the backend cannot be asked
                Log.LeaseRetry(_logger, LeaseName, ex.Message, ex);
                await DelayAsync(RetryDelay, stoppingToken).ConfigureAwait(false);
                continue;
            }

            await using (lease.ConfigureAwait(false))
            {
                _holder = new PluginLeaseHolder(_backend.ReplicaId, lease.Since);
                _held = true;
                Log.LeaseAcquired(_logger, LeaseName, _backend.ReplicaId);
                try
                {
                    await RunWhileAsync(lease.Lost, stoppingToken).ConfigureAwait(false);
                }
                finally
                {
                    _held = false;
                    _holder = null;
                }

                if (!stoppingToken.IsCancellationRequested)
                {
                    Log.LeaseLost(_logger, LeaseName, _backend.ReplicaId);
                }
            }
        }
    }

    // Runs the inner service until the lease is lost or the host stops; a failure of the inner service propagates.
    private async Task RunWhileAsync(CancellationToken lost, CancellationToken stoppingToken)
    {
        await _inner.StartAsync(stoppingToken).ConfigureAwait(false);
        _running = true;
        try
        {
            using var either = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, lost);
            var waiting = Task.Delay(Timeout.InfiniteTimeSpan, either.Token);
            var execute = (_inner as BackgroundService)?.ExecuteTask;
            var first = execute is null ? waiting : await Task.WhenAny(waiting, execute).ConfigureAwait(false);
            if (first == execute)
            {
                await execute.ConfigureAwait(false); // throws when the inner service crashed
                await DelayAsync(Timeout.InfiniteTimeSpan, either.Token).ConfigureAwait(false); // it finished: keep the lease
            }
            else
            {
                await DelayAsync(Timeout.InfiniteTimeSpan, either.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            _running = false;
            await _inner.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken token)
    {
        try
        {
            await Task.Delay(delay, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>A run-once service's lease as one replica sees it (<see cref="RunOnceHostedService.Status"/>).</summary>
/// <param name="Service">The lease's name, the same on every replica (for example <c>ticker/ticks</c>).</param>
/// <param name="Holder">The replica id of the holder, or <see langword="null"/> when none is known (see <see cref="RunOnceHostedService.Holder"/>).</param>
/// <param name="HeldByThisReplica">Whether this replica holds the lease (its service runs here).</param>
/// <param name="Since">When the holder took the lease, or <see langword="null"/> with no holder.</param>
public sealed record RunOnceServiceStatus(string Service, string? Holder, bool HeldByThisReplica, DateTimeOffset? Since);
