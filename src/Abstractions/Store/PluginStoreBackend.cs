namespace Compose.Store;

/// <summary>
/// A shared backend for the plugin store, cluster events and run-once leases (such as <c>Compose.PostgreSql</c>).
/// Register one as a singleton of this type and every plugin context uses it; with none registered, each plugin gets
/// the embedded default: <see cref="FilePluginStore"/>, <see cref="InProcessClusterEvents"/> and a lease that is
/// always held.
/// </summary>
public abstract class PluginStoreBackend
{
    /// <summary>Gets this process's replica id: <c>{machine}/{process id}/{random}</c>, unique per process start.</summary>
    public static string ProcessReplicaId { get; } =
        $"{Environment.MachineName}/{Environment.ProcessId}/{Convert.ToHexString(Guid.NewGuid().ToByteArray().AsSpan(0, 4)).ToLowerInvariant()}";

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
    public abstract Task<IPluginLease> AcquireLeaseAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A held lease of <see cref="PluginStoreBackend.AcquireLeaseAsync"/>; dispose it to release.</summary>
public interface IPluginLease : IAsyncDisposable
{
    /// <summary>Gets the lease's name.</summary>
    string Name { get; }

    /// <summary>Gets a token cancelled when the lease is lost (the backend's connection dropped); stop the work then.</summary>
    CancellationToken Lost { get; }
}
