using Microsoft.Extensions.Logging;

namespace Compose.Hosting;

/// <summary>The log lines of the plugin runtime (category <c>Compose.ServerPlugins</c>).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Loaded plugin: {Name} ({Id})")]
    public static partial void Loaded(ILogger logger, string name, string id);

    [LoggerMessage(2, LogLevel.Error, "Plugin '{Id}' ({Name}) failed to initialize and is not serving: {Message}")]
    public static partial void InitFailed(ILogger logger, Exception exception, string id, string name, string message);

    [LoggerMessage(3, LogLevel.Error, "Plugin '{Id}' ({Name}) threw from ExitAsync: {Message}")]
    public static partial void ExitFailed(ILogger logger, Exception exception, string id, string name, string message);

    [LoggerMessage(4, LogLevel.Error, "Plugin '{Id}' ({Name}) did not finish ExitAsync within {Timeout}; shutdown goes on without it")]
    public static partial void ExitTimedOut(ILogger logger, string id, string name, TimeSpan timeout);

    [LoggerMessage(5, LogLevel.Warning, "{Count} server plugin(s) are registered but app.MapServerPlugins() was not called: no plugin is initialized and no plugin route is mapped")]
    public static partial void NotMapped(ILogger logger, int count);

    [LoggerMessage(6, LogLevel.Warning, "Configuration section Compose:Plugins:{Key} matches no composed server plugin (composed: {Composed}); check the id for a typo")]
    public static partial void UnknownPluginSection(ILogger logger, string key, string composed);

    [LoggerMessage(7, LogLevel.Information, "Plugin '{Id}' ({Name}) switched {OnOrOff} by configuration")]
    public static partial void Switched(ILogger logger, string id, string name, string onOrOff);

    [LoggerMessage(8, LogLevel.Error, "Reloaded Compose configuration ignored: {Message}")]
    public static partial void InvalidReload(ILogger logger, string message);
}
