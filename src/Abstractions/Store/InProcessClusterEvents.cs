using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Compose.Store;

/// <summary>
/// The embedded <see cref="IPluginClusterEvents"/>: events reach the subscribers in this process only (one machine,
/// one replica). Also the fan-out that shared backends use once an event arrived.
/// </summary>
public sealed class InProcessClusterEvents : IPluginClusterEvents
{
    private readonly ILogger _logger;
    private readonly string _replicaId;
    private readonly object _gate = new();
    private Subscription[] _subscriptions = [];

    /// <summary>Creates the events of one plugin.</summary>
    /// <param name="pluginId">The plugin's id.</param>
    /// <param name="replicaId">This replica's id (<see cref="PluginStoreBackend.ReplicaId"/>).</param>
    /// <param name="logger">Logs a handler that throws; default none.</param>
    public InProcessClusterEvents(string pluginId, string replicaId, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pluginId);
        ArgumentException.ThrowIfNullOrEmpty(replicaId);
        PluginId = pluginId;
        _replicaId = replicaId;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public string PluginId { get; }

    /// <summary>Gets the number of live subscriptions.</summary>
    public int SubscriberCount => Volatile.Read(ref _subscriptions).Length;

    /// <inheritdoc />
    public Task PublishAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        PluginStoreLimits.ValidateEvent(name, payload);
        cancellationToken.ThrowIfCancellationRequested();
        Deliver(new PluginClusterEvent(name, payload.ToArray(), _replicaId, FromThisReplica: true));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public IDisposable Subscribe(Func<PluginClusterEvent, CancellationToken, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(this, handler);
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions, subscription];
        }

        return subscription;
    }

    /// <summary>Hands an event to every subscriber; returns at once (each subscriber runs on its own queue).</summary>
    /// <param name="clusterEvent">The event.</param>
    public void Deliver(PluginClusterEvent clusterEvent)
    {
        ArgumentNullException.ThrowIfNull(clusterEvent);
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.Enqueue(clusterEvent);
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate)
        {
            _subscriptions = [.. _subscriptions.Where(s => !ReferenceEquals(s, subscription))];
        }
    }

    private sealed class Subscription(InProcessClusterEvents owner, Func<PluginClusterEvent, CancellationToken, Task> handler) : IDisposable
    {
        // Bounded: a handler that cannot keep up loses the oldest events (at-most-once), never the publisher's time.
        private const int QueueLimit = 1024;
        private readonly Queue<PluginClusterEvent> _queue = new();
        private readonly CancellationTokenSource _disposed = new();
        private bool _running;

        public void Enqueue(PluginClusterEvent clusterEvent)
        {
            lock (_queue)
            {
                if (_disposed.IsCancellationRequested)
                {
                    return;
                }

                if (_queue.Count == QueueLimit)
                {
                    _queue.Dequeue();
                    Log.EventDropped(owner._logger, owner.PluginId, clusterEvent.Name);
                }

                _queue.Enqueue(clusterEvent);
                if (_running)
                {
                    return;
                }

                _running = true;
            }

            _ = Task.Run(DrainAsync);
        }

        public void Dispose()
        {
            lock (_queue)
            {
                _queue.Clear();
                _disposed.Cancel();
            }

            owner.Remove(this);
        }

        private async Task DrainAsync()
        {
            while (true)
            {
                PluginClusterEvent next;
                lock (_queue)
                {
                    if (!_queue.TryDequeue(out next!))
                    {
                        _running = false;
                        return;
                    }
                }

                try
                {
                    await handler(next, _disposed.Token).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    Log.HandlerFailed(owner._logger, owner.PluginId, next.Name, ex);
                }
            }
        }
    }
}
