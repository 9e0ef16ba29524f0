using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>Initialisation, late registration, failures and shutdown, over a real host.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task InitializationCompletesBeforeTheServerTakesRequests()
    {
        await using var host = await PluginHost.StartAsync(["slow-init"]);

        Assert.True(host.App.Services.GetRequiredService<SlowInitPlugin>().Ready);
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("slow-init")!.State);
        Assert.Equal("ready", await host.Client.GetStringAsync("/api/plugins/slow-init/ready"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DisposablePluginIsDisposedOnceWithTheApplication(bool alsoResolvedFromServices)
    {
        var host = await PluginHost.StartAsync(["disposable"]);
        var journal = host.App.Services.GetRequiredService<DisposalJournal>();
        if (alsoResolvedFromServices)
        {
            Assert.Equal(ServerPluginState.Running, host.Catalog.Find("disposable")!.State);
            Assert.NotNull(host.App.Services.GetRequiredService<DisposablePlugin>());
        }

        Assert.Equal(0, journal.Count);
        await host.DisposeAsync();

        Assert.Equal(1, journal.Count);
    }

    [Fact]
    public async Task RouteRegisteredAfterTheFirstAwaitFailsThePluginWithAnErrorNamingIt()
    {
        await using var host = await PluginHost.StartAsync(["late", "probe"]);

        var late = host.Catalog.Find("late")!;
        Assert.Equal(ServerPluginState.Failed, late.State);
        Assert.Contains("Server plugin 'late'", late.Error, StringComparison.Ordinal);
        Assert.Contains("registered a route after its InitAsync returned", late.Error, StringComparison.Ordinal);
        var log = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("'late'", StringComparison.Ordinal));
        Assert.IsType<InvalidOperationException>(log.Exception);

        using var lateRoute = await host.Client.GetAsync("/api/plugins/late/late");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, lateRoute.StatusCode); // never mapped, but under the failed plugin's prefix
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task InitThatThrowsIsReportedWithThePluginIdAndDoesNotStopTheHost()
    {
        await using var host = await PluginHost.StartAsync(["throwing-sync", "throwing-async", "probe"]);

        foreach (var (id, message) in new[] { ("throwing-sync", "database unreachable"), ("throwing-async", "cache warm-up failed") })
        {
            var entry = host.Catalog.Find(id)!;
            Assert.Equal(ServerPluginState.Failed, entry.State);
            Assert.Equal(message, entry.Error);
            var line = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains($"'{id}'", StringComparison.Ordinal));
            Assert.Contains(message, line.Message, StringComparison.Ordinal);
            Assert.NotNull(line.Exception);
        }

        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("probe")!.State);
        Assert.DoesNotContain(host.Logs.Messages(LogLevel.Information), m => m.Contains("(throwing-sync)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PluginsExitInReverseOrder()
    {
        var host = await PluginHost.StartAsync(["exit-a", "exit-b", "exit-c"]);
        var journal = host.App.Services.GetRequiredService<ExitJournal>();
        var catalog = host.Catalog;
        Assert.Empty(journal.Exits);

        await host.DisposeAsync();

        Assert.Equal(["exit-c", "exit-b", "exit-a"], journal.Exits.ToArray());
        Assert.All(catalog.Where(e => e.Descriptor.Id.StartsWith("exit-", StringComparison.Ordinal) && e.State != ServerPluginState.Disabled),
            e => Assert.Equal(ServerPluginState.Stopped, e.State));
    }

    [Fact]
    public async Task ExitThatHangsOrThrowsIsBoundedAndNeverSkipsTheOthers()
    {
        var host = await PluginHost.StartAsync(
            ["exit-a", "exit-hangs", "exit-throws", "exit-c"],
            configure: options => options.ExitTimeout = TimeSpan.FromMilliseconds(300));
        var journal = host.App.Services.GetRequiredService<ExitJournal>();

        var clock = Stopwatch.StartNew();
        await host.DisposeAsync();
        clock.Stop();

        // Reverse id order: exit-throws, exit-hangs, exit-c, exit-a; the hang and the throw do not stop the rest.
        Assert.Equal(["exit-throws", "exit-hangs", "exit-c", "exit-a"], journal.Exits.ToArray());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"Shutdown took {clock.Elapsed}; the hanging plugin was not bounded.");
        var errors = host.Logs.Messages(LogLevel.Error).ToList();
        Assert.Contains(errors, m => m.Contains("'exit-hangs'", StringComparison.Ordinal) && m.Contains("did not finish ExitAsync within", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.Contains("'exit-throws'", StringComparison.Ordinal) && m.Contains("flush failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExitIsBoundedByTheHostsStopToken()
    {
        var host = await PluginHost.StartAsync(["exit-hangs", "exit-a"]);
        var journal = host.App.Services.GetRequiredService<ExitJournal>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        var clock = Stopwatch.StartNew();
        await host.App.StopAsync(stop.Token);
        clock.Stop();

        Assert.Equal(["exit-hangs", "exit-a"], journal.Exits.ToArray());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"Shutdown took {clock.Elapsed}.");
        await host.DisposeAsync();
    }

    [Fact]
    public async Task MapServerPluginsWithoutAddServerPluginsExplainsTheFix()
    {
        var builder = WebApplication.CreateSlimBuilder();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapServerPlugins());
        Assert.Contains("AddServerPlugins(builder.Configuration)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MapServerPluginsTwiceIsAnError()
    {
        await using var host = await PluginHost.StartAsync(["probe"]);
        var error = Assert.Throws<InvalidOperationException>(() => host.App.MapServerPlugins());
        Assert.Contains("once", error.Message, StringComparison.Ordinal);
    }
}
