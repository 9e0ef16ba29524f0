namespace Compose.Store;

/// <summary>
/// Small messages from one replica's instance of a plugin to every replica's instance of the same plugin
/// (PostgreSQL <c>LISTEN</c>/<c>NOTIFY</c> with <c>Compose.PostgreSql</c>; delivered in process otherwise). Reach it
/// through <see cref="IServerPluginContext.Events"/>.
/// </summary>
/// <remarks>
/// Delivery is at most once: a replica that is not listening when an event is published (starting, or its
/// connection to the backend down) never sees it, so use events to say "reload from the store", not to carry state.
/// The publisher's own subscribers receive its events too (<see cref="PluginClusterEvent.FromThisReplica"/> tells).
/// Each handler runs isolated: one that throws is logged with the plugin id and the other handlers, and later
/// events, are still delivered. Handlers of one subscription run one event at a time, in the order received.
/// </remarks>
public interface IPluginClusterEvents
{
    /// <summary>Gets the id of the plugin whose events these are.</summary>
    string PluginId { get; }

    /// <summary>Publishes an event to every replica of the plugin.</summary>
    /// <param name="name">The event's name, 1 to <see cref="PluginStoreLimits.MaxEventNameBytes"/> bytes of UTF-8 without control characters.</param>
    /// <param name="payload">The payload, up to <see cref="PluginStoreLimits.MaxEventPayloadBytes"/> bytes.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes once the backend accepted the event.</returns>
    /// <exception cref="ArgumentException">The name or payload breaks a limit.</exception>
    /// <exception cref="PluginStoreUnavailableException">The backend cannot be reached.</exception>
    Task PublishAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default);

    /// <summary>Subscribes to the plugin's events.</summary>
    /// <param name="handler">Runs for each event; its exceptions are logged and swallowed.</param>
    /// <returns>Dispose it to unsubscribe.</returns>
    IDisposable Subscribe(Func<PluginClusterEvent, CancellationToken, Task> handler);
}

/// <summary>One cluster event.</summary>
/// <param name="Name">The event's name.</param>
/// <param name="Payload">The payload.</param>
/// <param name="Sender">The id of the replica that published it (<see cref="PluginStoreBackend.ReplicaId"/>).</param>
/// <param name="FromThisReplica">Whether this replica published it.</param>
public sealed record PluginClusterEvent(string Name, ReadOnlyMemory<byte> Payload, string Sender, bool FromThisReplica);
