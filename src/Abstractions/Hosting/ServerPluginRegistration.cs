using System.ComponentModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compose.Hosting;

/// <summary>
/// One composed plugin as the generated code hands it to the runtime: its descriptor and the three
/// compile-time-bound entry points. Infrastructure for code written by the Compose generator.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ServerPluginRegistration
{
    /// <summary>Creates a registration.</summary>
    /// <param name="descriptor">The plugin's descriptor.</param>
    /// <param name="create">Creates the plugin instance, resolving each constructor parameter from the service provider.</param>
    /// <param name="configureServices">The plugin's static <c>ConfigureServices</c>, or <see langword="null"/>.</param>
    /// <param name="hasExitAsync">Whether the plugin implements <see cref="IServerPlugin.ExitAsync"/> itself.</param>
    /// <exception cref="ArgumentNullException"><paramref name="descriptor"/> or <paramref name="create"/> is null.</exception>
    public ServerPluginRegistration(
        ServerPluginDescriptor descriptor,
        Func<IServiceProvider, IServerPlugin> create,
        Action<IServiceCollection, IConfiguration>? configureServices,
        bool hasExitAsync)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(create);
        Descriptor = descriptor;
        Create = create;
        ConfigureServices = configureServices;
        HasExitAsync = hasExitAsync;
    }

    /// <summary>Gets the plugin's descriptor.</summary>
    public ServerPluginDescriptor Descriptor { get; }

    /// <summary>Gets the factory that calls the plugin's constructor.</summary>
    public Func<IServiceProvider, IServerPlugin> Create { get; }

    /// <summary>Gets the plugin's static <c>ConfigureServices</c>, if it has one.</summary>
    public Action<IServiceCollection, IConfiguration>? ConfigureServices { get; }

    /// <summary>Gets whether the plugin implements <see cref="IServerPlugin.ExitAsync"/> itself.</summary>
    public bool HasExitAsync { get; }
}
