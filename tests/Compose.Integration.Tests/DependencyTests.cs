using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>Issue 11 at run time, over a real Kestrel host: order, disable and failure cascades, switching, exit order.</summary>
public sealed class DependencyTests
{
    [Fact]
    public async Task ADependent_IsConfiguredAndInitializedAfterItsDependency_AndExitsBeforeIt()
    {
        var host = await PluginHost.StartAsync(["dep-store", "dep-stats"]);
        var journal = host.App.Services.GetRequiredService<DependencyJournal>();

        Assert.Equal(["dep-store", "dep-stats saw the store"], host.App.Services.GetRequiredService<ConfigureOrder>().Lines);
        Assert.Contains("dep-stats:init after the store was ready", journal.Events);
        Assert.Equal("3 items", await host.Client.GetStringAsync("/api/plugins/dep-stats/summary"));
        Assert.Equal(["dep-stats", "dep-worker"], host.Catalog.Find("dep-store")!.Dependents); // every composed dependent, switched on or not
        Assert.Equal(["dep-store"], host.Catalog.Find("dep-stats")!.Descriptor.DependsOn);

        await host.DisposeAsync();
        var events = journal.Events.ToList();
        Assert.True(events.IndexOf("dep-stats:exit") < events.IndexOf("dep-store:exit"), string.Join(", ", events));
    }

    [Fact]
    public async Task ADependencySwitchedOffAtStartUp_LeavesItsDependentOut_WithTheReason()
    {
        await using var host = await PluginHost.StartAsync(["dep-stats", "probe"], configureApp: app => app.MapServerPluginCatalog());

        var stats = host.Catalog.Find("dep-stats")!;
        Assert.Equal(ServerPluginState.Disabled, stats.State);
        Assert.Equal("depends on 'dep-store', which is disabled", stats.Reason);
        Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message == "Plugin 'dep-stats' is disabled: it depends on 'dep-store', which is disabled");
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/api/plugins/dep-stats/summary")).StatusCode);

        using var catalog = JsonDocument.Parse(await host.Client.GetStringAsync("/api/plugins"));
        var item = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "dep-stats");
        Assert.Equal("depends on 'dep-store', which is disabled", item.GetProperty("reason").GetString());
        Assert.Equal("dep-store", item.GetProperty("dependsOn")[0].GetString());
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task ADependencyThatFails_FailsItsDependent_WhichAnswers503NamingBoth_AndIsNeverInitialized()
    {
        await using var host = await PluginHost.StartAsync(["dep-broken", "dep-on-broken", "probe"]);

        var dependent = host.Catalog.Find("dep-on-broken")!;
        Assert.Equal(ServerPluginState.Failed, dependent.State);
        Assert.Equal("depends on 'dep-broken', which failed", dependent.Error);
        Assert.DoesNotContain("dep-on-broken:init", host.App.Services.GetRequiredService<DependencyJournal>().Events);
        Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message == "Plugin 'dep-on-broken' failed: it depends on 'dep-broken', which failed; its routes answer 503");

        using var response = await host.Client.GetAsync("/api/plugins/dep-on-broken/status");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(
            "Server plugin 'dep-on-broken' (dep-on-broken) is not serving requests: it depends on server plugin 'dep-broken', which failed.",
            problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task SwitchingADependencyOffAtRunTime_SwitchesItsDependentOff_AndTheDependentCannotBeOnWithoutIt()
    {
        await using var host = await PluginHost.StartAsync(["dep-store", "dep-stats"]);
        Assert.Equal("3 items", await host.Client.GetStringAsync("/api/plugins/dep-stats/summary"));

        await host.ReloadAsync("Compose:Plugins:dep-store:Enabled", "false");
        await WaitForStatusAsync(host, "/api/plugins/dep-stats/summary", HttpStatusCode.NotFound);
        Assert.Equal(ServerPluginState.Disabled, host.Catalog.Find("dep-stats")!.State);
        Assert.Contains(host.Logs.Messages(LogLevel.Warning), m => m == "Plugin 'dep-stats' stays off: it depends on 'dep-store', which is switched off");

        await host.ReloadAsync("Compose:Plugins:dep-store:Enabled", "true");
        await WaitForStatusAsync(host, "/api/plugins/dep-stats/summary", HttpStatusCode.OK);
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("dep-stats")!.State);
    }

    [Fact]
    public async Task SwitchingADependencyBackOnWhileItsDependentsServiceIsStopping_LeavesTheServiceRunningOnce()
    {
        await using var host = await PluginHost.StartAsync(["dep-store", "dep-worker"]);
        var journal = host.App.Services.GetRequiredService<DependencyJournal>();
        int Count(string e) => journal.Events.Count(x => x == e);
        await WaitUntilAsync(() => Count("dep-worker:start") == 1, "the dependent's service did not start");

        await host.ReloadAsync("Compose:Plugins:dep-store:Enabled", "false");
        await WaitUntilAsync(() => Count("dep-worker:stopping") == 1, "switching the dependency off did not stop the dependent's service");
        Assert.Equal(ServerPluginState.Disabled, host.Catalog.Find("dep-worker")!.State);

        // Inside the 400 ms the service takes to stop: the start waits for the stop, then runs the service once more.
        await host.ReloadAsync("Compose:Plugins:dep-store:Enabled", "true");
        Assert.Equal(0, Count("dep-worker:stopped"));
        await WaitUntilAsync(() => Count("dep-worker:start") == 2, "switching the dependency on did not start the dependent's service again");
        Assert.Equal(1, Count("dep-worker:stopped"));
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("dep-worker")!.State);
        await WaitForStatusAsync(host, "/api/plugins/dep-worker/status", HttpStatusCode.OK);
        Assert.Equal(1, DepWorkerPlugin.SlowStoppingWorker.MostRunningAtOnce);

        // Still running a moment later, and stopped once more by the host at shutdown.
        await Task.Delay(300);
        Assert.Equal(1, Count("dep-worker:stopped"));
        await host.App.StopAsync();
        Assert.Equal(2, Count("dep-worker:stopped"));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), failure);
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task IndependentChains_InitializeConcurrently_EachLinkAfterTheOneBefore()
    {
        await using var host = await PluginHost.StartAsync(["chain-a1", "chain-a2", "chain-a3", "chain-b1", "chain-b2", "chain-b3"]);
        var events = host.App.Services.GetRequiredService<DependencyJournal>().Events.ToList();

        foreach (var chain in new[] { "a", "b" })
        {
            for (var link = 2; link <= 3; link++)
            {
                Assert.True(
                    events.IndexOf($"chain-{chain}{link - 1}:end") < events.IndexOf($"chain-{chain}{link}:start"),
                    $"chain-{chain}{link} started before chain-{chain}{link - 1} ended: {string.Join(", ", events)}");
            }
        }

        // The chains overlap: the second chain's first link starts before the first chain's first link ends, and so on
        // for each position (start-up is bounded by the longest chain, not the sum).
        for (var link = 1; link <= 3; link++)
        {
            Assert.True(
                events.IndexOf($"chain-b{link}:start") < events.IndexOf($"chain-a{link}:end") && events.IndexOf($"chain-a{link}:start") < events.IndexOf($"chain-b{link}:end"),
                $"Links {link} of the two chains did not run concurrently: {string.Join(", ", events)}");
        }

        Assert.Equal("chain-b3", await host.Client.GetStringAsync("/api/plugins/chain-b3/id"));
    }

    private static async Task WaitForStatusAsync(PluginHost host, string path, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            using var response = await host.Client.GetAsync(path);
            if (response.StatusCode == expected)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"GET {path} still answered {(int)response.StatusCode}, not {(int)expected}.");
            await Task.Delay(50);
        }
    }
}
