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

    [LoggerMessage(9, LogLevel.Error, "Plugin '{Id}' ({Name}) did not finish InitAsync within {Timeout} and is not serving; its cancellation token was signalled")]
    public static partial void InitTimedOut(ILogger logger, string id, string name, TimeSpan timeout);

    [LoggerMessage(10, LogLevel.Information, "Waiting for {Count} server plugin(s) to finish InitAsync: {Ids}")]
    public static partial void StillInitializing(ILogger logger, int count, string ids);

    [LoggerMessage(11, LogLevel.Error, "Hosted service {Service} of plugin '{Id}' crashed: {Message}. Crash {Crashes} within the crash window; restarting it in {Delay}")]
    public static partial void HostedServiceCrashed(ILogger logger, Exception exception, string id, string service, string message, int crashes, TimeSpan delay);

    [LoggerMessage(12, LogLevel.Error, "Plugin '{Id}' ({Name}) failed: hosted service {Service} crashed {Crashes} times within {Window}; its hosted services stay stopped and its routes answer 503. Last error: {Message}")]
    public static partial void HostedServiceFailedPlugin(ILogger logger, Exception exception, string id, string name, string service, int crashes, TimeSpan window, string message);

    [LoggerMessage(13, LogLevel.Information, "Restarting hosted service {Service} of plugin '{Id}'")]
    public static partial void HostedServiceRestarting(ILogger logger, string id, string service);

    [LoggerMessage(14, LogLevel.Warning, "Hosted service {Service} of plugin '{Id}' threw while stopping: {Message}")]
    public static partial void HostedServiceStopFailed(ILogger logger, Exception exception, string id, string service, string message);

    [LoggerMessage(15, LogLevel.Warning, "Hosted service {Service} of plugin '{Id}' threw after the plugin stopped serving: {Message}")]
    public static partial void HostedServiceEnded(ILogger logger, Exception exception, string id, string service, string message);

    [LoggerMessage(16, LogLevel.Error, "Unhandled exception in an endpoint of plugin '{Id}' ({Name}) for {Method} {Path}; answered 500")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string id, string name, string method, string path);

    [LoggerMessage(17, LogLevel.Error, "Unhandled exception in an endpoint of plugin '{Id}' ({Name}) for {Method} {Path} after the response had started; the connection was aborted")]
    public static partial void HandlerFailedAfterStart(ILogger logger, Exception exception, string id, string name, string method, string path);

    [LoggerMessage(18, LogLevel.Warning, "Plugin '{Id}' is disabled: it {Reason}")]
    public static partial void DisabledByDependency(ILogger logger, string id, string reason);

    [LoggerMessage(19, LogLevel.Error, "Plugin '{Id}' failed: it depends on '{Dependency}', which failed; its routes answer 503")]
    public static partial void DependencyFailed(ILogger logger, string id, string dependency);

    [LoggerMessage(20, LogLevel.Warning, "Plugin '{Id}' stays off: it depends on '{Dependency}', which is switched off")]
    public static partial void StaysOffWithDependency(ILogger logger, string id, string dependency);

    [LoggerMessage(21, LogLevel.Information, "Code of plugin '{Id}' ({Name}) was updated (hot reload): exiting it and initializing it again on the new code")]
    public static partial void Reinitializing(ILogger logger, string id, string name);

    [LoggerMessage(22, LogLevel.Warning, "Plugin '{Id}' is initialized again on its existing instance: {Type} was resolved from dependency injection, so its constructor is not called again")]
    public static partial void ReinitializingSameInstance(ILogger logger, string id, string type);

    [LoggerMessage(23, LogLevel.Warning, "The code update changed the composition of server plugins ({Type}): a plugin was added, removed, or its [ServerPlugin] attribute, constructor or ConfigureServices changed. Restart the host to apply it (in dotnet watch: Ctrl+R)")]
    public static partial void CompositionUpdated(ILogger logger, string type);

    [LoggerMessage(24, LogLevel.Error, "Applying a code update to the server plugins failed: {Message}. Restart the host")]
    public static partial void CodeUpdateFailed(ILogger logger, Exception exception, string message);
}
