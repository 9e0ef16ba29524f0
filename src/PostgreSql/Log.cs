using Microsoft.Extensions.Logging;

namespace Compose.PostgreSql;

/// <summary>The PostgreSQL backend's log messages (category <c>Compose.PostgreSql</c>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1451, Level = LogLevel.Information, Message = "Compose store schema ready in PostgreSQL schema '{Schema}'")]
    public static partial void SchemaReady(ILogger logger, string schema);

    [LoggerMessage(EventId = 1452, Level = LogLevel.Warning, Message = "Compose store could not prepare its PostgreSQL schema at start-up ({Reason}); it tries again on first use")]
    public static partial void SchemaDeferred(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 1453, Level = LogLevel.Warning, Message = "Compose cluster-event listener lost PostgreSQL ({Reason}); reconnecting in {Delay} (events published meanwhile are not delivered here)")]
    public static partial void ListenerLost(ILogger logger, string reason, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 1454, Level = LogLevel.Information, Message = "Compose cluster-event listener connected")]
    public static partial void ListenerConnected(ILogger logger);

    [LoggerMessage(EventId = 1455, Level = LogLevel.Warning, Message = "Compose store: transient PostgreSQL failure in {Operation} of plugin '{PluginId}' (attempt {Attempt} of {MaxAttempts}): {Reason}")]
    public static partial void Transient(ILogger logger, string operation, string pluginId, int attempt, int maxAttempts, string reason);

    [LoggerMessage(EventId = 1457, Level = LogLevel.Warning, Message = "Run-once lease '{LeaseName}': PostgreSQL refused to record or read its holder ({Reason}); the lease works, the catalog and health show no holder")]
    public static partial void HolderUnknown(ILogger logger, string leaseName, string reason, Exception exception);

    [LoggerMessage(EventId = 1456, Level = LogLevel.Warning, Message = "Compose cluster event ignored: malformed notification payload")]
    public static partial void MalformedNotification(ILogger logger);
}
