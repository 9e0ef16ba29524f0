using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Compose.Hosting;

/// <summary>
/// The composed plugins of one host and their lifecycle: init at map time, await at start, switch on and off on
/// configuration reload, exit at stop.
/// </summary>
internal sealed class ServerPluginRuntime(
    ComposeOptions options,
    IConfigurationSection composeSection,
    ServerPluginCatalog catalog,
    IReadOnlyList<(PluginInstance Plugin, ServerPluginEntry Entry)> enabled,
    IReadOnlyList<string> unknownSections,
    ILogger logger,
    TimeSpan hostShutdownTimeout) : IDisposable, IAsyncDisposable
{
    private readonly List<ActivePlugin> _active = new(enabled.Count);
    private IDisposable? _reloadSubscription;
    private int _mapped;

    public ServerPluginCatalog Catalog => catalog;

    public string RoutePrefix => options.RoutePrefix;

    public string AssetsPrefix => options.AssetsPrefix;

    public bool IsMapped => Volatile.Read(ref _mapped) == 1;

    public RouteGroupBuilder Map(IEndpointRouteBuilder endpoints)
    {
        if (Interlocked.Exchange(ref _mapped, 1) == 1)
        {
            throw new InvalidOperationException("MapServerPlugins was already called; call it once.");
        }

        var services = endpoints.ServiceProvider;
        var stopping = services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;
        var root = endpoints.MapGroup(options.RoutePrefix);
        var pluginsSection = composeSection.GetSection("Plugins");
        var configured = PluginSettings.ConfiguredIds(pluginsSection);
        foreach (var (instance, entry) in enabled)
        {
            var descriptor = instance.Registration.Descriptor;

            // The plugin's group hangs from a private builder: its endpoints reach routing only through its data source.
            var pluginEndpoints = new PluginEndpointsBuilder(endpoints);
            var group = pluginEndpoints.MapGroup("/" + descriptor.Id).WithTags(descriptor.Name);
            if (configured.Contains(descriptor.Id) && PluginSettings.AuthorizationPolicy(pluginsSection.GetSection(descriptor.Id)) is { } policy)
            {
                group.RequireAuthorization(policy);
            }

            var dataSource = new PluginEndpointDataSource(entry, (IReadOnlyList<EndpointDataSource>)pluginEndpoints.DataSources);
            ((IEndpointRouteBuilder)root).DataSources.Add(dataSource);
            var assets = MapWebAssets(endpoints, descriptor, entry);

            var router = new PluginRouteBuilder(group, descriptor);
            var active = new ActivePlugin(instance.Registration, entry, dataSource, assets);
            entry.SetState(ServerPluginState.Initializing);
            try
            {
                var plugin = instance.GetOrCreate(services);
                active.Instance = plugin;
                active.InitTask = plugin.InitAsync(router, stopping) ?? Task.CompletedTask;
            }
            catch (Exception ex)
            {
                // A constructor or a synchronous InitAsync that throws fails this plugin, not the host.
                active.InitTask = Task.FromException(ex);
            }
            finally
            {
                router.Close();
            }

            _active.Add(active);
        }

        _reloadSubscription = ChangeToken.OnChange(composeSection.GetReloadToken, ApplyConfiguration);
        return root;
    }

    /// <summary>Awaits every plugin's initialisation; one plugin's failure is logged and isolated (or fatal with FailFast).</summary>
    public async Task AwaitInitializationAsync(CancellationToken cancellationToken)
    {
        foreach (var key in unknownSections)
        {
            Log.UnknownPluginSection(logger, key, string.Join(", ", catalog.Select(e => e.Descriptor.Id)));
        }

        if (!IsMapped)
        {
            if (enabled.Count > 0)
            {
                Log.NotMapped(logger, enabled.Count);
            }

            return;
        }

        foreach (var plugin in _active)
        {
            var descriptor = plugin.Registration.Descriptor;
            try
            {
                await plugin.InitTask.WaitAsync(cancellationToken).ConfigureAwait(false);
                plugin.Entry.SetState(ServerPluginState.Running);
                Log.Loaded(logger, descriptor.Name, descriptor.Id);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                plugin.Entry.SetState(ServerPluginState.Failed, ex.Message);
                plugin.NotifyChanged();
                Log.InitFailed(logger, ex, descriptor.Id, descriptor.Name, ex.Message);
                if (options.FailFast)
                {
                    throw new InvalidOperationException(
                        $"Server plugin '{descriptor.Id}' ({descriptor.Name}) failed to initialize and Compose:FailFast is set, so the host does not start: {ex.Message}",
                        ex);
                }
            }
        }
    }

    /// <summary>Calls <see cref="IServerPlugin.ExitAsync"/> in reverse order, each bounded; failures are logged, never fatal.</summary>
    public async Task ExitAsync(CancellationToken cancellationToken)
    {
        _reloadSubscription?.Dispose();
        var timeout = options.ExitTimeout ?? hostShutdownTimeout;
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var plugin = _active[i];
            var descriptor = plugin.Registration.Descriptor;
            if (plugin.Instance is null || plugin.Entry.LifecycleState != ServerPluginState.Running)
            {
                continue;
            }

            if (plugin.Registration.HasExitAsync)
            {
                using var exitToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                exitToken.CancelAfter(timeout);
                try
                {
                    var exit = plugin.Instance.ExitAsync(exitToken.Token) ?? Task.CompletedTask;
                    await exit.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Log.ExitTimedOut(logger, descriptor.Id, descriptor.Name, timeout);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    Log.ExitTimedOut(logger, descriptor.Id, descriptor.Name, timeout);
                }
                catch (Exception ex)
                {
                    Log.ExitFailed(logger, ex, descriptor.Id, descriptor.Name, ex.Message);
                }
            }

            plugin.Entry.SetState(ServerPluginState.Stopped);
        }
    }

    /// <summary>Stops watching configuration and disposes the plugin instances the container did not create, last first.</summary>
    public void Dispose()
    {
        _reloadSubscription?.Dispose();
        for (var i = enabled.Count - 1; i >= 0; i--)
        {
            enabled[i].Plugin.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        _reloadSubscription?.Dispose();
        for (var i = enabled.Count - 1; i >= 0; i--)
        {
            await enabled[i].Plugin.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Applies <c>Compose:Enabled</c> and <c>Compose:Plugins:{id}:Enabled</c> after a configuration reload
    /// (Mattermost's enable/disable without restart): a plugin switched off answers 404 until switched on again.
    /// Its instance and services stay; it is not initialised again.
    /// </summary>
    private void ApplyConfiguration()
    {
        bool global;
        try
        {
            global = ComposeOptions.ReadBoolean(composeSection, nameof(ComposeOptions.Enabled)) ?? true;
        }
        catch (InvalidOperationException ex)
        {
            Log.InvalidReload(logger, ex.Message);
            return;
        }

        var pluginsSection = composeSection.GetSection("Plugins");
        foreach (var plugin in _active)
        {
            var descriptor = plugin.Registration.Descriptor;
            bool on;
            try
            {
                on = global && PluginSettings.IsEnabled(pluginsSection.GetSection(descriptor.Id));
            }
            catch (InvalidOperationException ex)
            {
                Log.InvalidReload(logger, ex.Message);
                continue;
            }

            if (plugin.Entry.SwitchOff(!on))
            {
                plugin.NotifyChanged();
                Log.Switched(logger, descriptor.Id, descriptor.Name, on ? "on" : "off");
            }
        }
    }

    /// <summary>
    /// Serves the plugin package's static web assets (Mattermost webapp bundles, Tailchat frontend plugins) at
    /// <c>{AssetsPrefix}/{id}/{path}</c> from the host's web root, where the Razor SDK puts them
    /// (<c>_content/{PackageId}</c>). Through its own data source, so they follow the plugin's state.
    /// </summary>
    private PluginEndpointDataSource? MapWebAssets(IEndpointRouteBuilder endpoints, ServerPluginDescriptor descriptor, ServerPluginEntry entry)
    {
        if (descriptor.WebAssetsPath is null
            || endpoints.ServiceProvider.GetService<Microsoft.AspNetCore.Hosting.IWebHostEnvironment>()?.WebRootFileProvider is not { } webRoot)
        {
            return null;
        }

        var builder = new PluginEndpointsBuilder(endpoints);
        builder.MapGet($"{options.AssetsPrefix.TrimEnd('/')}/{descriptor.Id}/{{**path}}", WebAssets.Serve(webRoot, descriptor.WebAssetsPath))
            .WithDisplayName($"Web assets of server plugin '{descriptor.Id}'")
            .ExcludeFromDescription();
        var dataSource = new PluginEndpointDataSource(entry, (IReadOnlyList<EndpointDataSource>)builder.DataSources, countsRoutes: false);
        endpoints.DataSources.Add(dataSource);
        return dataSource;
    }

    private sealed class ActivePlugin(ServerPluginRegistration registration, ServerPluginEntry entry, PluginEndpointDataSource dataSource, PluginEndpointDataSource? assets)
    {
        public ServerPluginRegistration Registration { get; } = registration;

        public ServerPluginEntry Entry { get; } = entry;

        public void NotifyChanged()
        {
            dataSource.NotifyChanged();
            assets?.NotifyChanged();
        }

        public IServerPlugin? Instance { get; set; }

        public Task InitTask { get; set; } = Task.CompletedTask;
    }
}
