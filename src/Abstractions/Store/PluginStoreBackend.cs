using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compose.Store;

/// <summary>
/// A shared backend for the plugin store, cluster events and run-once leases (such as <c>Compose.PostgreSql</c>).
/// Register one as a singleton of this type and every plugin context uses it; with none registered, each plugin gets
/// the embedded default: <see cref="FilePluginStore"/>, <see cref="InProcessClusterEvents"/> and a lease that is
/// always held.
/// </summary>
public abstract class PluginStoreBackend
{
    /// <summary>The configuration key that names this replica: <c>Compose:Store:ReplicaId</c>.</summary>
    public const string ReplicaIdKey = "Compose:Store:ReplicaId";

    /// <summary>
    /// Gets this process's default replica id: <c>{machine}/{process id}/{random}</c>, unique per process start. Used
    /// unless <c>Compose:Store:ReplicaId</c> (or the backend's own setting) names the replica.
    /// </summary>
    public static string ProcessReplicaId { get; } =
        $"{Environment.MachineName}/{Environment.ProcessId}/{Convert.ToHexString(Guid.NewGuid().ToByteArray().AsSpan(0, 4)).ToLowerInvariant()}";

    /// <summary>
    /// Gets the replica id of the host behind <paramref name="services"/>: the registered backend's
    /// <see cref="ReplicaId"/>, else <c>Compose:Store:ReplicaId</c> of the registered <see cref="IConfiguration"/>, else
    /// <see cref="ProcessReplicaId"/>. The catalog, the health checks, the run-once leases and the cluster events use it.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <returns>The replica id.</returns>
    /// <exception cref="ArgumentException"><c>Compose:Store:ReplicaId</c> is set but not a valid id (see <see cref="PluginStoreLimits.ValidateReplicaId"/>).</exception>
    public static string ReplicaIdOf(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetService<PluginStoreBackend>() is { } backend)
        {
            return backend.ReplicaId;
        }

        return services.GetService<IConfiguration>()?[ReplicaIdKey] is { Length: > 0 } configured
            ? PluginStoreLimits.ValidateReplicaId(configured)
            : ProcessReplicaId;
    }

    /// <summary>Gets the backend's name, such as <c>PostgreSql</c>, for logs and docs.</summary>
    public abstract string Name { get; }

    /// <summary>Gets this replica's id as other replicas see it; default <see cref="ProcessReplicaId"/>.</summary>
    public virtual string ReplicaId => ProcessReplicaId;

    /// <summary>Gets the store of one plugin (the same instance for the same id).</summary>
    /// <param name="pluginId">The plugin's id.</param>
    /// <returns>The plugin's store.</returns>
    public abstract IPluginStore GetStore(string pluginId);

    /// <summary>Gets the cluster events of one plugin (the same instance for the same id).</summary>
    /// <param name="pluginId">The plugin's id.</param>
    /// <returns>The plugin's events.</returns>
    public abstract IPluginClusterEvents GetEvents(string pluginId);

    /// <summary>
    /// Waits until this replica holds the lease <paramref name="name"/>, which at most one replica holds at a time.
    /// </summary>
    /// <param name="name">The lease's name (a run-once service's name).</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The lease; its <see cref="IPluginLease.Lost"/> fires if the backend can no longer vouch for it. Dispose it to release.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached (the caller retries).</exception>
    public Task<IPluginLease> AcquireLeaseAsync(string name, CancellationToken cancellationToken)
        => AcquireLeaseAsync(name, holderSeen: null, cancellationToken);

    /// <summary>
    /// Waits until this replica holds the lease <paramref name="name"/>, which at most one replica holds at a time,
    /// telling <paramref name="holderSeen"/> who holds it meanwhile (at each of the backend's checks while waiting).
    /// </summary>
    /// <param name="name">The lease's name (a run-once service's name).</param>
    /// <param name="holderSeen">
    /// Called while waiting with the replica that holds the lease now, or <see langword="null"/> when none does or the
    /// backend cannot tell; optional. It must not block or throw.
    /// </param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The lease; its <see cref="IPluginLease.Lost"/> fires if the backend can no longer vouch for it. Dispose it to release.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached (the caller retries).</exception>
    public abstract Task<IPluginLease> AcquireLeaseAsync(string name, Action<PluginLeaseHolder?>? holderSeen, CancellationToken cancellationToken);
}

/// <summary>Which replica holds a run-once lease, and since when.</summary>
/// <param name="ReplicaId">The holder's <see cref="PluginStoreBackend.ReplicaId"/>.</param>
/// <param name="Since">When it took the lease (the backend's clock: PostgreSQL's <c>now()</c>).</param>
public sealed record PluginLeaseHolder(string ReplicaId, DateTimeOffset Since);

/// <summary>A held lease of <see cref="PluginStoreBackend.AcquireLeaseAsync(string, CancellationToken)"/>; dispose it to release.</summary>
public interface IPluginLease : IAsyncDisposable
{
    /// <summary>Gets the lease's name.</summary>
    string Name { get; }

    /// <summary>Gets a token cancelled when the lease is lost (the backend's connection dropped); stop the work then.</summary>
    CancellationToken Lost { get; }

    /// <summary>Gets when this replica took the lease (the backend's clock, as other replicas see it).</summary>
    DateTimeOffset Since { get; }
}
