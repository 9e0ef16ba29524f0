using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Compose.FaultPlugins;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>
/// The fault suite (issue 10): plugins from tests/FaultPlugins that hang, throw, block and crash on purpose, composed into
/// a real Kestrel host on 127.0.0.1, and what the host does about each: the bound, what the client sees, what the log says.
/// </summary>
public sealed class FaultTests
{
    private const string Faults = "Faults";

    private static Task<PluginHost> StartAsync(string[] plugins, Dictionary<string, string?>? settings = null, Action<ComposeOptions>? configure = null, string environment = Faults, Action<WebApplicationBuilder>? configureBuilder = null, Action<WebApplication>? configureApp = null, Action<RouteGroupBuilder>? conventions = null)
    {
        settings ??= [];
        if (environment != Faults)
        {
            foreach (var id in plugins)
            {
                settings[$"Compose:Plugins:{id}:Environments"] = "*";
            }
        }

        return PluginHost.StartAsync(plugins, settings, configure, conventions, configureBuilder, configureApp, environment);
    }

    [Fact]
    public async Task InitThatHangs_FailsOnlyThatPluginAfterItsInitTimeout_TheHostStartsAndItsPrefixAnswers503()
    {
        var clock = Stopwatch.StartNew();
        await using var host = await StartAsync(
            ["fault-hang-init", "probe"],
            new() { ["Compose:Plugins:fault-hang-init:InitTimeout"] = "00:00:01" });
        clock.Stop();

        // The host listens after the plugin's own bound (1 s), not the host-wide 30 s, and serves the others.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));

        var entry = host.Catalog.Find("fault-hang-init")!;
        Assert.Equal(ServerPluginState.Failed, entry.State);
        Assert.Equal("did not finish InitAsync within 00:00:01", entry.Error);
        var error = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("'fault-hang-init'", StringComparison.Ordinal));
        Assert.Contains("did not finish InitAsync within 00:00:01", error.Message, StringComparison.Ordinal);

        // Its token was signalled, so a plugin that listens can stop its work.
        var journal = host.App.Services.GetRequiredService<FaultJournal>();
        Assert.Contains("fault-hang-init:cancelled", journal.Events);

        // The route it mapped and every other path under its prefix answer 503 naming it.
        foreach (var path in new[] { "/api/plugins/fault-hang-init/status", "/api/plugins/fault-hang-init/nothing/here", "/api/plugins/fault-hang-init" })
        {
            await AssertUnavailableAsync(host.Client, path, "fault-hang-init");
        }
    }

    [Fact]
    public async Task InitThatHangs_IsNamedInAProgressLineWhileTheHostWaits()
    {
        await using var host = await StartAsync(
            ["fault-hang-init", "probe"],
            new() { ["Compose:Plugins:fault-hang-init:InitTimeout"] = "00:00:06" });

        var waiting = Assert.Single(host.Logs.Messages(LogLevel.Information), m => m.StartsWith("Waiting for", StringComparison.Ordinal));
        Assert.Equal("Waiting for 1 server plugin(s) to finish InitAsync: fault-hang-init", waiting);
    }

    [Fact]
    public async Task InitThatHangs_WithFailFast_RefusesToStartNamingThePlugin()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(
            ["fault-hang-init", "probe"],
            new() { ["Compose:InitTimeout"] = "00:00:01", ["Compose:FailFast"] = "true" }));

        Assert.Equal("Server plugin 'fault-hang-init' (fault-hang-init) did not finish InitAsync within 00:00:01 and Compose:FailFast is set, so the host does not start.", error.Message);
    }

    [Fact]
    public async Task InitTimeoutOfTheWrongFormat_IsAStartUpErrorNamingTheKey()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(
            ["probe"],
            new() { ["Compose:Plugins:probe:InitTimeout"] = "soon" }));

        Assert.Equal("Configuration key 'Compose:Plugins:probe:InitTimeout' must be a positive time span such as 00:00:10, not 'soon'.", error.Message);
    }

    [Theory]
    [InlineData("fault-throw-early", "/anything")]
    [InlineData("fault-throw-early", "")]
    [InlineData("fault-throw-late", "/status")]
    [InlineData("fault-throw-late", "/not/mapped")]
    public async Task InitThatThrows_BeforeOrAfterMapping_Answers503OnEveryPathUnderItsPrefix(string id, string path)
    {
        await using var host = await StartAsync([id, "probe"]);

        await AssertUnavailableAsync(host.Client, $"/api/plugins/{id}{path}", id);
        using var post = await host.Client.PostAsync($"/api/plugins/{id}/items", null);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task ExitThatBlocksItsThread_IsBoundedAndTheOthersStillExit()
    {
        var host = await StartAsync(
            ["fault-exit-blocks", "exit-a", "exit-c"],
            new() { ["Compose:ExitTimeout"] = "00:00:01", ["Compose:Plugins:exit-a:Environments"] = "*", ["Compose:Plugins:exit-c:Environments"] = "*" });
        var faults = host.App.Services.GetRequiredService<FaultJournal>();
        var exits = host.App.Services.GetRequiredService<ExitJournal>();

        var clock = Stopwatch.StartNew();
        await host.App.StopAsync();
        clock.Stop();

        // Reverse id order: fault-exit-blocks (bounded at 1 s, although it sleeps 60 s), exit-c, exit-a.
        Assert.Contains("fault-exit-blocks:exit", faults.Events);
        Assert.Equal(["exit-c", "exit-a"], exits.Exits.ToArray());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"Shutdown took {clock.Elapsed}; a 1 s bound was set.");
        Assert.Contains(host.Logs.Messages(LogLevel.Error), m => m == "Plugin 'fault-exit-blocks' (fault-exit-blocks) did not finish ExitAsync within 00:00:01; shutdown goes on without it");
        await host.DisposeAsync();
    }

    [Fact]
    public async Task HostedServiceThatCrashesOnce_DegradesThePlugin_IsRestarted_AndTheHostKeepsRunning()
    {
        await using var host = await StartAsync(
            ["fault-crashing-service", "probe"],
            new() { ["Compose:RestartDelay"] = "00:00:00.200", ["Compose:Plugins:fault-crashing-service:CrashTimes"] = "1" },
            configureBuilder: b => b.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost));
        var journal = host.App.Services.GetRequiredService<FaultJournal>();

        await WaitUntilAsync(() => journal.Events.Contains("fault-crashing-service:execute 2"), "the service was not restarted");

        var entry = host.Catalog.Find("fault-crashing-service")!;
        Assert.Equal(ServerPluginState.Degraded, entry.State);
        Assert.Contains("CrashingService crashed (1 of 3 allowed", entry.Error, StringComparison.Ordinal);
        Assert.Contains("background crash 1", entry.Error, StringComparison.Ordinal);
        var crash = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("Hosted service CrashingService of plugin 'fault-crashing-service' crashed", StringComparison.Ordinal));
        Assert.Equal("background crash 1", crash.Exception!.Message);

        // Degraded still serves; the health check says Degraded, naming it; the host did not stop (StopHost is set).
        Assert.Equal("up", await host.Client.GetStringAsync("/api/plugins/fault-crashing-service/status"));
        var health = await host.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("fault-crashing-service", health.Entries["server-plugins"].Description, StringComparison.Ordinal);
        await Task.Delay(500);
        Assert.False(host.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task HostedServiceThatKeepsCrashing_FailsThePluginAfterThreeCrashes_ItStaysStopped(bool beforeFirstAwait)
    {
        await using var host = await StartAsync(
            ["fault-crashing-service", "probe"],
            new() { ["Compose:RestartDelay"] = "00:00:00.100", ["Compose:Plugins:fault-crashing-service:Early"] = beforeFirstAwait ? "true" : "false" },
            configureBuilder: b => b.Services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost));
        var journal = host.App.Services.GetRequiredService<FaultJournal>();
        var entry = host.Catalog.Find("fault-crashing-service")!;

        await WaitUntilAsync(() => entry.State == ServerPluginState.Failed, "the plugin did not fail after repeated crashes");
        Assert.StartsWith("Hosted service CrashingService crashed 3 times within 01:00:00; the plugin is stopped", entry.Error, StringComparison.Ordinal);

        // Back-off 100 ms, then 200 ms; after the third crash no further start.
        await Task.Delay(1000);
        Assert.Equal(3, journal.Count("fault-crashing-service:execute"));
        Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.StartsWith("Plugin 'fault-crashing-service' (fault-crashing-service) failed: hosted service CrashingService crashed 3 times", StringComparison.Ordinal));

        await AssertUnavailableAsync(host.Client, "/api/plugins/fault-crashing-service/status", "fault-crashing-service");
        var health = await host.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.False(host.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
    }

    [Fact]
    public async Task HostedServicesOfAPluginWhoseInitFailed_NeverStart()
    {
        await using var host = await StartAsync(["fault-worker", "probe"], new() { ["Compose:Plugins:fault-worker:FailInit"] = "true" });
        var journal = host.App.Services.GetRequiredService<FaultJournal>();

        Assert.Equal(ServerPluginState.Failed, host.Catalog.Find("fault-worker")!.State);
        await Task.Delay(300);
        Assert.Equal(0, journal.Count("fault-worker:start"));
        await host.App.StopAsync();
        Assert.Equal(0, journal.Count("fault-worker:stop"));
    }

    [Fact]
    public async Task SwitchingAPluginOff_StopsItsHostedServices_AndSwitchingItOn_StartsThemAgain()
    {
        await using var host = await StartAsync(["fault-worker"]);
        var journal = host.App.Services.GetRequiredService<FaultJournal>();
        await WaitUntilAsync(() => journal.Count("fault-worker:start") == 1, "the worker did not start");

        await host.ReloadAsync("Compose:Plugins:fault-worker:Enabled", "false");
        await WaitUntilAsync(() => journal.Count("fault-worker:stop") == 1, "switching off did not stop the worker");
        Assert.Equal(ServerPluginState.Disabled, host.Catalog.Find("fault-worker")!.State);

        await host.ReloadAsync("Compose:Plugins:fault-worker:Enabled", "true");
        await WaitUntilAsync(() => journal.Count("fault-worker:start") == 2, "switching on did not start the worker again");
        Assert.Equal("up", await host.Client.GetStringAsync("/api/plugins/fault-worker/status"));

        // And the host stops it once more at shutdown.
        await host.App.StopAsync();
        Assert.Equal(2, journal.Count("fault-worker:stop"));
    }

    [Fact]
    public async Task SwitchingOffDuringARestartBackOff_CancelsTheRestart_AndSwitchingOnStartsTheServiceAfresh()
    {
        await using var host = await StartAsync(
            ["fault-crashing-service"],
            new() { ["Compose:RestartDelay"] = "00:00:00.600", ["Compose:Plugins:fault-crashing-service:CrashTimes"] = "1" });
        var journal = host.App.Services.GetRequiredService<FaultJournal>();
        var entry = host.Catalog.Find("fault-crashing-service")!;

        // The first run crashes; the restart is scheduled 600 ms later. Switch the plugin off inside that window.
        await WaitUntilAsync(() => entry.State == ServerPluginState.Degraded, "the first crash did not degrade the plugin");
        await host.ReloadAsync("Compose:Plugins:fault-crashing-service:Enabled", "false");
        Assert.Equal(ServerPluginState.Disabled, entry.State);

        // Well past the back-off: the cancelled restart never ran the service of a switched-off plugin.
        await Task.Delay(1500);
        Assert.Equal(1, journal.Count("fault-crashing-service:execute"));
        Assert.Equal(ServerPluginState.Disabled, entry.State);

        // Switching on starts it once (the second run does not crash), and the plugin is Running, not Degraded.
        await host.ReloadAsync("Compose:Plugins:fault-crashing-service:Enabled", "true");
        await WaitUntilAsync(() => journal.Count("fault-crashing-service:execute") == 2, "switching on did not start the service");
        await WaitUntilAsync(() => entry.State == ServerPluginState.Running, "the plugin did not run again after switching on");
        await Task.Delay(800);
        Assert.Equal(2, journal.Count("fault-crashing-service:execute"));
        Assert.Equal("up", await host.Client.GetStringAsync("/api/plugins/fault-crashing-service/status"));

        await host.App.StopAsync();
        Assert.Equal(1, journal.Count("fault-crashing-service:stopped"));
    }

    [Fact]
    public async Task SwitchingOnAndOffWhileRestartsAreDue_NeverRunsTheServiceOfADisabledPlugin_NorTwiceAtOnce()
    {
        // Crashes every run with a 20 ms back-off, while the test toggles the plugin 20 times: restarts and switches race.
        await using var host = await StartAsync(
            ["fault-crashing-service"],
            new() { ["Compose:RestartDelay"] = "00:00:00.020", ["Compose:MaxCrashes"] = "1000" });
        var journal = host.App.Services.GetRequiredService<FaultJournal>();
        var entry = host.Catalog.Find("fault-crashing-service")!;

        for (var i = 0; i < 20; i++)
        {
            await host.ReloadAsync("Compose:Plugins:fault-crashing-service:Enabled", i % 2 == 0 ? "false" : "true");
            await Task.Delay(15 + (i * 7 % 40));
        }

        await host.ReloadAsync("Compose:Plugins:fault-crashing-service:Enabled", "false");
        Assert.Equal(ServerPluginState.Disabled, entry.State);
        var settled = journal.Count("fault-crashing-service:execute");
        await Task.Delay(500);
        Assert.Equal(settled, journal.Count("fault-crashing-service:execute"));
        Assert.True(settled > 5, $"only {settled} runs: the toggling did not race restarts");
        Assert.Equal(1, journal.MostRunningAtOnce);
        Assert.False(host.App.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested);
    }

    [Theory]
    [InlineData("/sync")]
    [InlineData("/async")]
    [InlineData("/raw")]
    public async Task HandlerThatThrows_Answers500ProblemDetailsNamingThePlugin_WithoutTheExceptionText(string path)
    {
        await using var host = await StartAsync(["fault-handlers"]);

        using var response = await host.Client.GetAsync($"/api/plugins/fault-handlers{path}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal(500, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("Server plugin 'fault-handlers' (fault-handlers) failed to process the request.", problem.RootElement.GetProperty("detail").GetString());
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);

        var logged = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal($"Unhandled exception in an endpoint of plugin 'fault-handlers' (fault-handlers) for GET /api/plugins/fault-handlers{path}; answered 500", logged.Message);
        Assert.Contains("hunter2", logged.Exception!.Message, StringComparison.Ordinal);

        // The plugin keeps serving.
        Assert.Equal("ok", await host.Client.GetStringAsync("/api/plugins/fault-handlers/ok"));
    }

    [Fact]
    public async Task HandlerThatThrowsAfterTheResponseStarted_AbortsTheConnectionAndLogsOnce()
    {
        await using var host = await StartAsync(["fault-handlers"]);

        await Assert.ThrowsAnyAsync<HttpRequestException>(async () =>
        {
            using var response = await host.Client.GetAsync("/api/plugins/fault-handlers/started");
            await response.Content.ReadAsStringAsync();
        });

        await WaitUntilAsync(() => host.Logs.Messages(LogLevel.Error).Any(), "nothing was logged");
        var logged = Assert.Single(host.Logs.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("after the response had started; the connection was aborted", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HandlerThatThrows_InDevelopment_PropagatesToTheDeveloperExceptionPage()
    {
        await using var host = await StartAsync(["fault-handlers"], environment: "Development");

        using var response = await host.Client.GetAsync("/api/plugins/fault-handlers/sync");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Contains("secret detail: Password=hunter2", body, StringComparison.Ordinal); // the developer exception page
        Assert.DoesNotContain(host.Logs.Messages(LogLevel.Error), m => m.Contains("answered 500", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandlerThatThrows_WithHandleExceptionsOff_ReachesTheHostsExceptionHandler()
    {
        await using var host = await StartAsync(
            ["fault-handlers"],
            new() { ["Compose:HandleExceptions"] = "false" },
            configureApp: app => app.UseExceptionHandler(new ExceptionHandlerOptions
            {
                ExceptionHandler = context =>
                {
                    var error = context.Features.Get<IExceptionHandlerFeature>()!.Error;
                    context.Response.StatusCode = 500;
                    return context.Response.WriteAsync($"host handled: {error.Message}");
                },
            }));

        var body = await (await host.Client.GetAsync("/api/plugins/fault-handlers/sync")).Content.ReadAsStringAsync();

        Assert.Equal("host handled: secret detail: Password=hunter2", body);
    }

    [Fact]
    public async Task SlowHandlerInFlightAtShutdown_Completes()
    {
        var host = await StartAsync(["fault-handlers"]);

        var journal = host.App.Services.GetRequiredService<FaultJournal>();
        var slow = host.Client.GetStringAsync("/api/plugins/fault-handlers/slow");
        await WaitUntilAsync(() => journal.Events.Contains("fault-handlers:slow started"), "the slow request did not reach its handler");
        var stop = host.App.StopAsync();

        Assert.Equal("slow done", await slow);
        await stop;
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Catalog_OutsideDevelopment_ShowsNoExceptionText_InDevelopment_ShowsTheReason()
    {
        foreach (var (environment, expected) in new[] { (Faults, "failed; see the host log"), ("Development", "cannot connect: Server=db;Password=hunter2") })
        {
            await using var host = await StartAsync(["fault-throw-early"], environment: environment, configureApp: app => app.MapServerPluginCatalog());

            var body = await host.Client.GetStringAsync("/api/plugins");
            using var catalog = JsonDocument.Parse(body);
            var item = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "fault-throw-early");
            Assert.Equal("Failed", item.GetProperty("state").GetString());
            Assert.Equal(expected, item.GetProperty("error").GetString());
            if (environment == Faults)
            {
                Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
            }
        }
    }

    private static async Task AssertUnavailableAsync(HttpClient client, string path, string id)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"GET {path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        Assert.Contains($"Server plugin '{id}'", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(20);
        }
    }
}
