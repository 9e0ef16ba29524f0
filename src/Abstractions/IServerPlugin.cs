using Microsoft.AspNetCore.Routing;

namespace Compose;

/// <summary>
/// The contract of a server plugin: a class marked with <see cref="ServerPluginAttribute"/> implements it.
/// </summary>
/// <remarks>
/// Mirrors the module interface of SillyTavern and Luker server plugins (<c>init(router)</c> and the optional
/// <c>exit()</c>). A plugin may also declare
/// <c>public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)</c>
/// to register its own services; <c>configuration</c> is then the plugin's own section
/// (<c>Compose:Plugins:{id}</c>).
/// </remarks>
public interface IServerPlugin
{
    /// <summary>
    /// Registers the plugin's routes and starts its work. Called once, when the host calls
    /// <c>app.MapServerPlugins()</c>.
    /// </summary>
    /// <param name="router">
    /// The plugin's route group: a route mapped as <c>/hello</c> answers at <c>/api/plugins/{id}/hello</c>.
    /// Register every route synchronously, before the first <c>await</c> (Luker's "Register Routes
    /// Synchronously" rule): the group is closed when this method returns its task, and a later
    /// registration throws <see cref="InvalidOperationException"/> naming the plugin.
    /// </param>
    /// <param name="cancellationToken">Signalled when the host begins to shut down.</param>
    /// <returns>
    /// A task for the asynchronous part of the initialisation. The host does not accept requests until it
    /// completes; if it fails, the plugin is marked failed and the other plugins keep running.
    /// </returns>
    Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken);

    /// <summary>
    /// Releases the plugin's resources at shutdown. Optional: the default does nothing. Plugins exit in the
    /// reverse order of their initialisation, each bounded by the host's shutdown timeout; a plugin that
    /// throws or hangs is logged and does not stop the others.
    /// </summary>
    /// <param name="cancellationToken">Signalled when the plugin's share of the shutdown timeout has passed.</param>
    /// <returns>A task that completes when the plugin has released its resources.</returns>
    Task ExitAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
