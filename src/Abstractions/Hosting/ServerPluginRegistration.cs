using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Compose.Hosting;

/// <summary>
/// One composed plugin as the generated <see cref="ServerPluginSet"/> describes it: its descriptor, and its
/// compile-time-bound constructor and <c>ConfigureServices</c>, reached through its index. Shared by every host in
/// the process, so it holds no per-host state (see <see cref="PluginInstance"/>).
/// </summary>
internal sealed class ServerPluginRegistration(ServerPluginSet set, int index, ServerPluginDescriptor descriptor, bool hasExitAsync)
{
    /// <summary>Gets the plugin's descriptor.</summary>
    public ServerPluginDescriptor Descriptor { get; } = descriptor;

    /// <summary>Gets whether the plugin implements <see cref="IServerPlugin.ExitAsync"/> itself.</summary>
    public bool HasExitAsync { get; } = hasExitAsync;

    /// <summary>Calls the plugin's constructor, resolving each parameter from <paramref name="services"/>.</summary>
    public IServerPlugin Create(IServiceProvider services) => set.CreatePlugin(index, services);

    /// <summary>Gets the constructor parameters resolved from dependency injection, for the start-up check.</summary>
    public ServerPluginParameter[] ConstructorParameters() => set.GetConstructorParameters(index);

    /// <summary>Calls the plugin's static <c>ConfigureServices</c>, if it has one.</summary>
    public void ConfigureServices(IServiceCollection services, IConfiguration configuration) => set.ConfigureServices(index, services, configuration);
}

/// <summary>
/// The one instance of an enabled plugin in one host, shared by <c>MapServerPlugins</c> and the plugin class's
/// singleton registration.
/// </summary>
/// <remarks>
/// <c>MapServerPlugins</c> creates the instance directly rather than through the service provider: building a
/// call site per plugin type costs start-up time with many plugins and buys nothing, as the factory is the same.
/// Whoever created the instance disposes it: the container when it was first resolved from it (the container
/// disposes what its factories return), otherwise the runtime when the application's services are disposed.
/// </remarks>
internal sealed class PluginInstance(ServerPluginRegistration registration)
{
    private readonly object _gate = new();
    private IServerPlugin? _instance;
    private bool _resolvedByContainer;

    /// <summary>Gets what the build knows about the plugin.</summary>
    public ServerPluginRegistration Registration { get; } = registration;

    /// <summary>Gets or sets how long its InitAsync may take (<c>Compose:Plugins:{id}:InitTimeout</c>, else <c>Compose:InitTimeout</c>).</summary>
    public TimeSpan InitTimeout { get; set; } = ComposeOptions.DefaultInitTimeout;

    /// <summary>Gets or sets the hosted services its ConfigureServices registered, owned and supervised by the plugin.</summary>
    public PluginHostedServices HostedServices { get; set; } = null!;

    /// <summary>Returns the plugin's instance, calling its constructor on first use.</summary>
    /// <param name="services">The application's root service provider, for the constructor's parameters.</param>
    public IServerPlugin GetOrCreate(IServiceProvider services)
    {
        if (Volatile.Read(ref _instance) is { } instance)
        {
            return instance;
        }

        lock (_gate)
        {
            return _instance ??= Registration.Create(services);
        }
    }

    /// <summary>The factory of the plugin class's singleton registration: the container disposes what it returns.</summary>
    public object ResolveForContainer(IServiceProvider services)
    {
        lock (_gate)
        {
            _resolvedByContainer = true;
            return _instance ??= Registration.Create(services);
        }
    }

    /// <summary>
    /// Lets go of the instance for a hot reload, so <see cref="GetOrCreate"/> calls the (updated) constructor again, and
    /// disposes it. An instance the container handed out stays (other services hold it; it is initialised again).
    /// </summary>
    /// <returns>Whether a new instance will be created.</returns>
    public async ValueTask<bool> RetireAsync()
    {
        lock (_gate)
        {
            if (_resolvedByContainer)
            {
                return false;
            }
        }

        await DisposeAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>Disposes the instance if the runtime created it and the container never handed it out.</summary>
    public ValueTask DisposeAsync()
    {
        switch (TakeOwnedInstance())
        {
            case IAsyncDisposable asyncDisposable:
                return asyncDisposable.DisposeAsync();
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Disposes the instance if the runtime created it and the container never handed it out, synchronously (an
    /// instance that is only <see cref="IAsyncDisposable"/> is waited for, as the application disposes synchronously).
    /// </summary>
    public void Dispose()
    {
        switch (TakeOwnedInstance())
        {
            case IDisposable disposable:
                disposable.Dispose();
                break;
            case IAsyncDisposable asyncDisposable:
                asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                break;
        }
    }

    private IServerPlugin? TakeOwnedInstance()
    {
        lock (_gate)
        {
            var instance = _resolvedByContainer ? null : _instance;
            if (instance is not null)
            {
                _instance = null;
            }

            return instance;
        }
    }
}
