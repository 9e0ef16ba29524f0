using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Compose.Integration.Tests;

// Plugins that depend on plugins (issue 11), switched on only by DependencyTests. "dep-stats" needs the store that
// "dep-store" registers, as the bookmark-stats needs bookmarks' IBookmarkStore.

/// <summary>What the dependency plugins did, in order.</summary>
public sealed class DependencyJournal
{
    public ConcurrentQueue<string> Events { get; } = new();

    public static void Add(IServiceCollection services) => services.TryAddSingleton<DependencyJournal>();
}

/// <summary>The service "dep-store" registers and "dep-stats" consumes through constructor injection.</summary>
public interface IDepStore
{
    bool Ready { get; }

    int Count { get; }
}

public sealed class DepStore : IDepStore
{
    public bool Ready { get; set; }

    public int Count => 3;
}

[ServerPlugin("dep-store")]
public sealed class DepStorePlugin(DepStore store, DependencyJournal journal) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        DependencyJournal.Add(services);
        ConfigureOrder.Of(services).Lines.Add("dep-store");
        services.AddSingleton<DepStore>();
        services.AddSingleton<IDepStore>(sp => sp.GetRequiredService<DepStore>());
    }

    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/count", () => store.Count);
        journal.Events.Enqueue("dep-store:init");
        await Task.Delay(150, cancellationToken);
        store.Ready = true;
        journal.Events.Enqueue("dep-store:ready");
    }

    public Task ExitAsync(CancellationToken cancellationToken)
    {
        journal.Events.Enqueue("dep-store:exit");
        return Task.CompletedTask;
    }
}

[ServerPlugin("dep-stats", DependsOn = ["dep-store"])]
public sealed class DepStatsPlugin(IDepStore store, DependencyJournal journal) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
        => ConfigureOrder.Of(services).Lines.Add(services.Any(d => d.ServiceType == typeof(IDepStore)) ? "dep-stats saw the store" : "dep-stats before the store");

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        journal.Events.Enqueue(store.Ready ? "dep-stats:init after the store was ready" : "dep-stats:init before the store was ready");
        router.MapGet("/summary", () => $"{store.Count} items");
        return Task.CompletedTask;
    }

    public Task ExitAsync(CancellationToken cancellationToken)
    {
        journal.Events.Enqueue("dep-stats:exit");
        return Task.CompletedTask;
    }
}

/// <summary>
/// Depends on "dep-store" and owns a background service that takes 400 ms to stop, so a test can switch the dependency
/// back on while the dependent's service is still stopping.
/// </summary>
[ServerPlugin("dep-worker", DependsOn = ["dep-store"])]
public sealed class DepWorkerPlugin : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        DependencyJournal.Add(services);
        services.AddHostedService<SlowStoppingWorker>();
    }

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        return Task.CompletedTask;
    }

    /// <summary>Records "dep-worker:start", "dep-worker:stopping" and "dep-worker:stopped"; counts runs in progress.</summary>
    public sealed class SlowStoppingWorker(DependencyJournal journal) : BackgroundService
    {
        private static int s_running;

        /// <summary>Gets the most runs that were in progress at once (one per host: only DependencyTests composes it).</summary>
        public static int MostRunningAtOnce { get; private set; }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var running = Interlocked.Increment(ref s_running);
            MostRunningAtOnce = Math.Max(MostRunningAtOnce, running);
            journal.Events.Enqueue("dep-worker:start");
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                journal.Events.Enqueue("dep-worker:stopping");
                await Task.Delay(400, CancellationToken.None);
                journal.Events.Enqueue("dep-worker:stopped");
            }
            finally
            {
                Interlocked.Decrement(ref s_running);
            }
        }
    }
}

/// <summary>What the ConfigureServices methods saw, in the order they ran (a dependent may decorate its dependency's services).</summary>
public sealed class ConfigureOrder
{
    public List<string> Lines { get; } = [];

    public static ConfigureOrder Of(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(ConfigureOrder))?.ImplementationInstance is ConfigureOrder order)
        {
            return order;
        }

        order = new ConfigureOrder();
        services.AddSingleton(order);
        return order;
    }
}

[ServerPlugin("dep-broken")]
public sealed class DepBrokenPlugin : IServerPlugin
{
    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        await Task.Yield();
        throw new InvalidOperationException("broken store");
    }
}

[ServerPlugin("dep-on-broken", DependsOn = ["dep-broken"])]
public sealed class DepOnBrokenPlugin(DependencyJournal journal) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => DependencyJournal.Add(services);

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        journal.Events.Enqueue("dep-on-broken:init");
        router.MapGet("/status", () => "up");
        return Task.CompletedTask;
    }
}

/// <summary>Two independent chains of three, each InitAsync awaiting 200 ms: a1 -> a2 -> a3 and b1 -> b2 -> b3.</summary>
public abstract class ChainPlugin(DependencyJournal journal, string id) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => DependencyJournal.Add(services);

    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        journal.Events.Enqueue($"{id}:start");
        router.MapGet("/id", () => id);
        await Task.Delay(200, cancellationToken);
        journal.Events.Enqueue($"{id}:end");
    }
}

[ServerPlugin("chain-a1")]
public sealed class ChainA1(DependencyJournal journal) : ChainPlugin(journal, "chain-a1");

[ServerPlugin("chain-a2", DependsOn = ["chain-a1"])]
public sealed class ChainA2(DependencyJournal journal) : ChainPlugin(journal, "chain-a2");

[ServerPlugin("chain-a3", DependsOn = ["chain-a2"])]
public sealed class ChainA3(DependencyJournal journal) : ChainPlugin(journal, "chain-a3");

[ServerPlugin("chain-b1")]
public sealed class ChainB1(DependencyJournal journal) : ChainPlugin(journal, "chain-b1");

[ServerPlugin("chain-b2", DependsOn = ["chain-b1"])]
public sealed class ChainB2(DependencyJournal journal) : ChainPlugin(journal, "chain-b2");

[ServerPlugin("chain-b3", DependsOn = ["chain-b2"])]
public sealed class ChainB3(DependencyJournal journal) : ChainPlugin(journal, "chain-b3");
