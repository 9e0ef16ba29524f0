using System.ComponentModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using System.Diagnostics.Metrics;

namespace Compose.Hosting;

/// <summary>
/// The runtime behind the generated <c>AddServerPlugins</c> and <c>MapServerPlugins</c> extension methods.
/// Infrastructure for code written by the Compose generator; hosts call the generated methods instead.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ServerPluginComposition
{
    /// <summary>
    /// Registers the enabled plugins of <paramref name="plugins"/>: each plugin class as a singleton created by
    /// its compile-time constructor call (the same instance <c>MapServerPlugins</c> initialises), its <c>ConfigureServices</c> called with its own configuration section
    /// (<c>Compose:Plugins:{id}</c>), the <see cref="ServerPluginCatalog"/>, and the hosted service that
    /// awaits initialisation at start-up and calls <see cref="IServerPlugin.ExitAsync"/> at shutdown.
    /// </summary>
    /// <param name="services">The host's service collection.</param>
    /// <param name="configuration">The host's configuration root; the <c>Compose</c> section is read from it.</param>
    /// <param name="plugins">The composed plugins, as generated at build time.</param>
    /// <param name="configure">Optional changes to the options after they were read from configuration.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// A configuration value has the wrong format, the method was already called, a plugin's
    /// <c>ConfigureServices</c> threw (the message names the plugin; there is no safe half-registration), or
    /// <paramref name="plugins"/> is inconsistent (see <see cref="ServerPluginSet.Descriptors"/>).
    /// </exception>
    public static IServiceCollection AddServerPlugins(
        IServiceCollection services,
        IConfiguration configuration,
        ServerPluginSet plugins,
        Action<ComposeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(plugins);
        var registrations = plugins.Registrations;

        foreach (var service in services)
        {
            if (service.ServiceType == typeof(ServerPluginRuntime))
            {
                throw new InvalidOperationException("AddServerPlugins was already called on this service collection; call it once.");
            }
        }

        var section = configuration.GetSection(ComposeOptions.SectionName);
        var options = ComposeOptions.FromConfiguration(section);
        if (configuration[Store.PluginStoreBackend.ReplicaIdKey] is { Length: > 0 } replicaId)
        {
            try
            {
                Store.PluginStoreLimits.ValidateReplicaId(replicaId);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidOperationException(ex.Message, ex);
            }
        }

        configure?.Invoke(options);
        var pluginsSection = section.GetSection("Plugins");
        var environment = EnvironmentName(services, configuration);

        // Only plugins named under Compose:Plugins have settings to read: one pass over the keys, not four
        // configuration lookups per plugin (they add up with hundreds of plugins).
        var configured = PluginSettings.ConfiguredIds(pluginsSection);
        var entries = new ServerPluginEntry[registrations.Length];
        for (var i = 0; i < registrations.Length; i++)
        {
            var descriptor = registrations[i].Descriptor;
            var settings = configured.Contains(descriptor.Id) ? pluginsSection.GetSection(descriptor.Id) : null;
            var isEnabled = options.Enabled
                            && (settings is null || PluginSettings.IsEnabled(settings))
                            && PluginSettings.AllowsEnvironment(descriptor, settings, environment);
            entries[i] = new ServerPluginEntry(descriptor, isEnabled);
        }

        // A plugin whose dependency is left out is left out too, with the reason (the table is in dependency order).
        var catalog = new ServerPluginCatalog(entries);
        catalog.DisableDependentsOfDisabled();

        var enabled = new List<(PluginInstance Plugin, ServerPluginEntry Entry)>(registrations.Length);
        for (var i = 0; i < registrations.Length; i++)
        {
            var plugin = registrations[i];
            var pluginSection = pluginsSection.GetSection(plugin.Descriptor.Id);
            var settings = configured.Contains(plugin.Descriptor.Id) ? pluginSection : null;
            if (entries[i].LifecycleState == ServerPluginState.Disabled)
            {
                continue;
            }

            var descriptor = plugin.Descriptor;
            var instance = new PluginInstance(plugin)
            {
                InitTimeout = (settings is null ? null : PluginSettings.InitTimeout(settings)) ?? options.InitTimeout,
                HostedServices = new PluginHostedServices(entries[i], options),
            };
            entries[i].RunOnceSource = instance.HostedServices.RunOnceStatuses;
            services.AddSingleton(descriptor.PluginType, instance.ResolveForContainer);
            services.AddKeyedSingleton<IServerPluginContext>(
                descriptor.Id,
                (sp, _) => new ServerPluginContext(descriptor, pluginSection, DataRoot(options, sp), sp));
            var before = services.Count;
            try
            {
                plugin.ConfigureServices(services, pluginSection);
                instance.HostedServices.Capture(services, before);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"Server plugin '{descriptor.Id}' ({descriptor.PluginType.FullName}) threw from ConfigureServices: {ex.Message}",
                    ex);
            }

            enabled.Add((instance, entries[i]));
        }

        // A section under Compose:Plugins that names no composed plugin is most likely a typo: reported at start-up.
        var composed = new HashSet<string>(registrations.Select(p => p.Descriptor.Id), StringComparer.OrdinalIgnoreCase);
        var unknown = configured.Where(key => !composed.Contains(key)).Order(StringComparer.Ordinal).ToArray();

        // ProblemDetails is the error convention of plugin routes: make sure it serializes without reflection.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Add(ComposeJsonContext.Default));

        services.AddSingleton(catalog);
        services.AddSingleton(sp => new ComposeInstruments(sp.GetService<IMeterFactory>(), catalog));
        services.AddSingleton(sp => new ServerPluginRuntime(
            options,
            section,
            catalog,
            enabled,
            unknown,
            sp.GetService<ILoggerFactory>()?.CreateLogger("Compose.ServerPlugins") ?? NullLogger.Instance,
            sp.GetService<IOptions<HostOptions>>()?.Value.ShutdownTimeout ?? TimeSpan.FromSeconds(30),
            sp.GetRequiredService<ComposeInstruments>(),
            services));
        services.AddSingleton<IHostedService>(sp => new ServerPluginLifecycle(sp.GetRequiredService<ServerPluginRuntime>()));
        AddHealthChecks(services, catalog, entries);
        return services;
    }

    /// <summary>
    /// Mounts every enabled plugin: creates the route group <c>{RoutePrefix}/{id}</c>, resolves the plugin,
    /// calls its <see cref="IServerPlugin.InitAsync"/> with the group, and closes the group to new routes when
    /// the synchronous part of <c>InitAsync</c> returns. The rest of the initialisation is awaited before the
    /// server takes requests.
    /// </summary>
    /// <param name="endpoints">The application's endpoint route builder (normally the <c>WebApplication</c>).</param>
    /// <returns>
    /// The route group that holds every plugin route: conventions added to it (for example
    /// <c>RequireAuthorization()</c>) apply to all plugin endpoints.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// <c>AddServerPlugins</c> was not called, or <c>MapServerPlugins</c> was already called.
    /// </exception>
    public static RouteGroupBuilder MapServerPlugins(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var runtime = endpoints.ServiceProvider.GetService<ServerPluginRuntime>()
            ?? throw new InvalidOperationException(
                "Server plugins are not registered: call builder.Services.AddServerPlugins(builder.Configuration) before app.MapServerPlugins().");
        return runtime.Map(endpoints);
    }

    /// <summary>
    /// The aggregate health check and one per plugin, as <c>AddHealthChecks().AddCheck(...)</c> would register them, but
    /// through one options callback that creates the registrations when the health check options are first built,
    /// instead of one <c>Configure</c> registration (a service descriptor and a closure) per check: with 1,000 plugins
    /// that is 1,000 fewer descriptors for the container to index at start-up.
    /// </summary>
    private static void AddHealthChecks(IServiceCollection services, ServerPluginCatalog catalog, ServerPluginEntry[] entries)
    {
        services.AddHealthChecks();
        services.Configure<HealthCheckServiceOptions>(options =>
        {
            options.Registrations.Add(new HealthCheckRegistration(ServerPluginHealthCheck.Name, new ServerPluginHealthCheck(catalog), failureStatus: null, tags: [ServerPluginHealthCheck.Tag]));
            foreach (var entry in entries)
            {
                options.Registrations.Add(new HealthCheckRegistration($"{ServerPluginHealthCheck.Name}:{entry.Descriptor.Id}", new PluginHealthCheck(entry), failureStatus: null, tags: [PluginHealthCheck.Tag]));
            }
        });
    }

    /// <summary>Where plugin data directories live: <c>Compose:DataRoot</c>, relative to the content root, or <c>App_Data/plugins</c>.</summary>
    private static string DataRoot(ComposeOptions options, IServiceProvider services)
    {
        var contentRoot = services.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
        return Path.GetFullPath(options.DataRoot ?? Path.Combine("App_Data", "plugins"), contentRoot);
    }

    /// <summary>The host's environment name, from the registered <see cref="IHostEnvironment"/> or the host configuration.</summary>
    private static string EnvironmentName(IServiceCollection services, IConfiguration configuration)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == typeof(IHostEnvironment) && !services[i].IsKeyedService && services[i].ImplementationInstance is IHostEnvironment environment)
            {
                return environment.EnvironmentName;
            }
        }

        return configuration[HostDefaults.EnvironmentKey] ?? Environments.Production;
    }
}
