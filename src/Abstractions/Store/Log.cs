using Microsoft.Extensions.Logging;

namespace Compose.Store;

/// <summary>The store, cluster-event and run-once log messages (category <c>Compose.Store</c>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "A cluster event handler of plugin '{PluginId}' threw on event '{EventName}'; delivery goes on")]
    public static partial void HandlerFailed(ILogger logger, string pluginId, string eventName, Exception exception);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "A cluster event subscriber of plugin '{PluginId}' is 1024 events behind; the oldest was dropped (event '{EventName}' arrived)")]
    public static partial void EventDropped(ILogger logger, string pluginId, string eventName);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Run-once service '{LeaseName}' acquired its lease on replica '{ReplicaId}'; starting it")]
    public static partial void LeaseAcquired(ILogger logger, string leaseName, string replicaId);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Run-once service '{LeaseName}' lost its lease on replica '{ReplicaId}'; stopping it until the lease is won again")]
    public static partial void LeaseLost(ILogger logger, string leaseName, string replicaId);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "Run-once service '{LeaseName}' could not ask for its lease ({Reason}); retrying")]
    public static partial void LeaseRetry(ILogger logger, string leaseName, string reason, Exception exception);
}
