using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compose.Hosting;

/// <summary>The composed plugins of one host and their lifecycle: init at map time, await at start, exit at stop.</summary>
internal sealed class ServerPluginRuntime(
    ComposeOptions options,
    ServerPluginCatalog catalog,
    IReadOnlyList<(ServerPluginRegistration Registration, ServerPluginEntry Entry)> enabled,
    ILogger logger,
    TimeSpan hostShutdownTimeout)
{
    private readonly List<ActivePlugin> _active = new(enabled.Count);
    private int _mapped;

    public ServerPluginCatalog Catalog => catalog;

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
        foreach (var (registration, entry) in enabled)
        {
            var descriptor = registration.Descriptor;
            var router = new PluginRouteBuilder(root.MapGroup("/" + descriptor.Id), descriptor);
            var active = new ActivePlugin(registration, entry);
            entry.SetState(ServerPluginState.Initializing);
            try
            {
                var plugin = (IServerPlugin)services.GetRequiredService(descriptor.PluginType);
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

        return root;
    }

    /// <summary>Awaits every plugin's initialisation; one plugin's failure is logged and isolated.</summary>
    public async Task AwaitInitializationAsync(CancellationToken cancellationToken)
    {
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
                Log.InitFailed(logger, ex, descriptor.Id, descriptor.Name, ex.Message);
            }
        }
    }

    /// <summary>Calls <see cref="IServerPlugin.ExitAsync"/> in reverse order, each bounded; failures are logged, never fatal.</summary>
    public async Task ExitAsync(CancellationToken cancellationToken)
    {
        var timeout = options.ExitTimeout ?? hostShutdownTimeout;
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var plugin = _active[i];
            var descriptor = plugin.Registration.Descriptor;
            if (plugin.Instance is null || plugin.Entry.State != ServerPluginState.Running)
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

    private sealed class ActivePlugin(ServerPluginRegistration registration, ServerPluginEntry entry)
    {
        public ServerPluginRegistration Registration { get; } = registration;

        public ServerPluginEntry Entry { get; } = entry;

        public IServerPlugin? Instance { get; set; }

        public Task InitTask { get; set; } = Task.CompletedTask;
    }
}
