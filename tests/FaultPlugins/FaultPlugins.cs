using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Compose.FaultPlugins;

// Each plugin breaks one promise of the runtime on purpose; tests/Compose.Integration.Tests/FaultTests.cs and the AOT
// fault tests assert what the host does about it. Composed only in the environment "Faults" (see the project file).

/// <summary>What the fault plugins did, for the tests to assert (shared by all of them, one per host).</summary>
public sealed class FaultJournal
{
    /// <summary>Gets the events in order: "fault-exit-blocks:exit", "fault-crashing-service:execute 2", ...</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>Registers the journal once.</summary>
    public static void Add(IServiceCollection services) => services.TryAddSingleton<FaultJournal>();

    /// <summary>Counts the events that start with <paramref name="prefix"/>.</summary>
    public int Count(string prefix) => Events.Count(e => e.StartsWith(prefix, StringComparison.Ordinal));

    private int _running;
    private int _mostRunning;

    /// <summary>Gets the most runs of <see cref="CrashingService"/> that were ever in progress at the same time.</summary>
    public int MostRunningAtOnce => Volatile.Read(ref _mostRunning);

    /// <summary>Marks a run as started; dispose the result when it ends.</summary>
    public IDisposable Run()
    {
        var now = Interlocked.Increment(ref _running);
        int most;
        while (now > (most = Volatile.Read(ref _mostRunning)) && Interlocked.CompareExchange(ref _mostRunning, now, most) != most)
        {
        }

        return new RunEnd(this);
    }

    private sealed class RunEnd(FaultJournal journal) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                Interlocked.Decrement(ref journal._running);
            }
        }
    }
}

/// <summary>Maps a route, then awaits forever, ignoring its token until it is signalled (the hang of issue 10).</summary>
[ServerPlugin("fault-hang-init", Environments = ["Faults"])]
public sealed class HangingInitPlugin(FaultJournal journal) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => FaultJournal.Add(services);

    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            journal.Events.Enqueue("fault-hang-init:cancelled");
            await new TaskCompletionSource().Task; // and keeps hanging: the runtime must not wait for it
        }
    }
}

/// <summary>Throws before it maps anything: its whole prefix must still answer 503, not 404.</summary>
[ServerPlugin("fault-throw-early", Environments = ["Faults"])]
public sealed class ThrowEarlyPlugin : IServerPlugin
{
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
        => throw new InvalidOperationException("cannot connect: Server=db;Password=hunter2");
}

/// <summary>Maps a route, then throws after an await.</summary>
[ServerPlugin("fault-throw-late", Environments = ["Faults"])]
public sealed class ThrowLatePlugin : IServerPlugin
{
    public async Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        router.MapPost("/items", () => Results.Created());
        await Task.Yield();
        throw new InvalidOperationException("cache warm-up failed: Password=hunter2");
    }
}

/// <summary>Blocks its thread for a minute before returning its ExitAsync task.</summary>
[ServerPlugin("fault-exit-blocks", Environments = ["Faults"])]
public sealed class BlockingExitPlugin(FaultJournal journal) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => FaultJournal.Add(services);

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        return Task.CompletedTask;
    }

    public Task ExitAsync(CancellationToken cancellationToken)
    {
        journal.Events.Enqueue("fault-exit-blocks:exit");
        Thread.Sleep(TimeSpan.FromSeconds(60));
        return Task.CompletedTask;
    }
}

/// <summary>
/// Registers a background service that throws: after its first await by default, before it
/// (<c>Compose:Plugins:fault-crashing-service:Early=true</c>); it recovers after <c>CrashTimes</c> crashes
/// (default: never). It also serves a route, to show that the plugin keeps serving while Degraded.
/// </summary>
[ServerPlugin("fault-crashing-service", Environments = ["Faults"])]
public sealed class CrashingServicePlugin : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        FaultJournal.Add(services);
        services.AddSingleton(new CrashSettings(
            configuration.GetValue("Early", false),
            configuration.GetValue("CrashTimes", int.MaxValue)));
        services.AddHostedService<CrashingService>();
    }

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        return Task.CompletedTask;
    }
}

/// <summary>How <see cref="CrashingService"/> crashes.</summary>
public sealed record CrashSettings(bool Early, int CrashTimes);

/// <summary>The background service of <see cref="CrashingServicePlugin"/>.</summary>
public sealed class CrashingService(FaultJournal journal, CrashSettings settings) : BackgroundService
{
    private int _runs;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var run = Interlocked.Increment(ref _runs);
        using var running = journal.Run();
        journal.Events.Enqueue($"fault-crashing-service:execute {run}");
        if (run <= settings.CrashTimes)
        {
            if (!settings.Early)
            {
                await Task.Delay(50, stoppingToken);
            }

            throw new InvalidOperationException($"background crash {run}");
        }

        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            journal.Events.Enqueue($"fault-crashing-service:stopped {run}");
        }
    }
}

/// <summary>
/// A background service that runs until stopped, recording each start and stop; with
/// <c>Compose:Plugins:fault-worker:FailInit=true</c> its InitAsync throws, so the worker must never start.
/// </summary>
[ServerPlugin("fault-worker", Environments = ["Faults"])]
public sealed class WorkerPlugin(IServerPluginContext context) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        FaultJournal.Add(services);
        services.AddHostedService<Worker>();
    }

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/status", () => "up");
        return context.Configuration.GetValue("FailInit", false)
            ? Task.FromException(new InvalidOperationException("worker init failed"))
            : Task.CompletedTask;
    }

    /// <summary>Runs until stopped.</summary>
    public sealed class Worker(FaultJournal journal) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            journal.Events.Enqueue("fault-worker:start");
            try
            {
                await Task.Delay(Timeout.Infinite, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                journal.Events.Enqueue("fault-worker:stop");
            }
        }
    }
}

/// <summary>Handlers that throw: synchronously, after an await, after the response started; and a slow one.</summary>
[ServerPlugin("fault-handlers", Environments = ["Faults"])]
public sealed class ThrowingHandlersPlugin(FaultJournal journal) : IServerPlugin
{
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration) => FaultJournal.Add(services);

    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        router.MapGet("/sync", string () => throw new InvalidOperationException("secret detail: Password=hunter2"));
        router.MapGet("/async", async Task<string> () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("secret detail after await: Password=hunter2");
        });
        router.MapGet("/raw", (RequestDelegate)(_ => throw new InvalidOperationException("raw delegate: Password=hunter2")));
        router.MapGet("/started", async (HttpContext context) =>
        {
            await context.Response.WriteAsync("partial ");
            await context.Response.Body.FlushAsync();
            throw new InvalidOperationException("after the response started");
        });
        router.MapGet("/slow", async () =>
        {
            journal.Events.Enqueue("fault-handlers:slow started");
            await Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None);
            return "slow done";
        });
        router.MapGet("/ok", () => "ok");
        return Task.CompletedTask;
    }
}
