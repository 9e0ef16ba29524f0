using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>Failure isolation, switching plugins off and on while the host runs, environment scoping, configuration typos, health.</summary>
public sealed class RuntimeControlTests
{
    [Fact]
    public async Task RoutesOfAFailedPluginAnswer503NamingItWhileOthersServe()
    {
        await using var host = await PluginHost.StartAsync(["throwing-async", "probe"]);

        using var response = await host.Client.GetAsync("/api/plugins/throwing-async/status");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("Server plugin 'throwing-async'", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("cache warm-up failed", problem.RootElement.GetRawText(), StringComparison.Ordinal);

        // A path it never mapped answers the same 503: the whole prefix belongs to the failed plugin.
        using var other = await host.Client.GetAsync("/api/plugins/throwing-async/unknown");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, other.StatusCode);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
        Assert.Equal(1, host.Catalog.Find("throwing-async")!.RouteCount);
    }

    [Fact]
    public async Task FailFastRefusesToStartAndNamesThePlugin()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PluginHost.StartAsync(
            ["throwing-sync", "probe"],
            new Dictionary<string, string?> { ["Compose:FailFast"] = "true" }));

        Assert.Contains("Server plugin 'throwing-sync'", error.Message, StringComparison.Ordinal);
        Assert.Contains("FailFast", error.Message, StringComparison.Ordinal);
        Assert.Contains("database unreachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigureServicesThatThrowsFailsStartUpNamingThePlugin()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => PluginHost.StartAsync(["bad-services", "probe"]));

        Assert.Contains("Server plugin 'bad-services'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConfigureServices", error.Message, StringComparison.Ordinal);
        Assert.Contains("connection string 'Notes' is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PluginIsSwitchedOffAndOnByAConfigurationReload()
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"]);
        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));

        await host.ReloadAsync("Compose:Plugins:probe:Enabled", "false");
        await AssertStatusWithinASecond(host, "/api/plugins/probe/ping", HttpStatusCode.NotFound);
        Assert.Equal(ServerPluginState.Disabled, host.Catalog.Find("probe")!.State);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/plugins/hello-world/hello")).StatusCode);
        Assert.Contains(host.Logs.Messages(LogLevel.Information), m => m.Contains("'probe'", StringComparison.Ordinal) && m.Contains("switched off", StringComparison.Ordinal));

        await host.ReloadAsync("Compose:Plugins:probe:Enabled", "true");
        await AssertStatusWithinASecond(host, "/api/plugins/probe/ping", HttpStatusCode.OK);
        Assert.Equal(ServerPluginState.Running, host.Catalog.Find("probe")!.State);
    }

    [Fact]
    public async Task GlobalSwitchAtRunTimeTurnsEveryPluginOffAndBackOn()
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"]);

        await host.ReloadAsync("Compose:Enabled", "false");
        await AssertStatusWithinASecond(host, "/api/plugins/probe/ping", HttpStatusCode.NotFound);
        await AssertStatusWithinASecond(host, "/api/plugins/hello-world/hello", HttpStatusCode.NotFound);

        await host.ReloadAsync("Compose:Enabled", "true");
        await AssertStatusWithinASecond(host, "/api/plugins/probe/ping", HttpStatusCode.OK);
        await AssertStatusWithinASecond(host, "/api/plugins/hello-world/hello", HttpStatusCode.OK);
    }

    [Fact]
    public async Task InvalidReloadedValueIsLoggedAndChangesNothing()
    {
        await using var host = await PluginHost.StartAsync(["probe"]);

        await host.ReloadAsync("Compose:Plugins:probe:Enabled", "nope");

        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
        Assert.Contains(host.Logs.Messages(LogLevel.Error), m => m.Contains("Compose:Plugins:probe:Enabled", StringComparison.Ordinal) && m.Contains("'nope'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PluginLimitedToDevelopmentIsLeftOutInOtherEnvironments()
    {
        await using var host = await PluginHost.StartAsync(["dev-only"]);

        Assert.Equal(ServerPluginState.Disabled, host.Catalog.Find("dev-only")!.State);
        Assert.Equal(["Development"], host.Catalog.Find("dev-only")!.Descriptor.Environments);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/api/plugins/dev-only/ping")).StatusCode);
        Assert.Null(host.App.Services.GetService<DevOnlyPlugin>());
    }

    [Theory]
    [InlineData("Testing")]
    [InlineData("Development,testing")]
    [InlineData("*")]
    public async Task EnvironmentsAreOverriddenByThePluginsSection(string environments)
    {
        await using var host = await PluginHost.StartAsync(["dev-only"], new Dictionary<string, string?> { ["Compose:Plugins:dev-only:Environments"] = environments });

        Assert.Equal("dev pong", await host.Client.GetStringAsync("/api/plugins/dev-only/ping"));
    }

    [Fact]
    public async Task SectionForAnUnknownIdIsReportedAsALikelyTypo()
    {
        await using var host = await PluginHost.StartAsync(["probe"], new Dictionary<string, string?> { ["Compose:Plugins:porbe:Enabled"] = "false" });

        var warning = Assert.Single(host.Logs.Messages(LogLevel.Warning), m => m.Contains("porbe", StringComparison.Ordinal));
        Assert.Contains("matches no composed server plugin", warning, StringComparison.Ordinal);
        Assert.Contains("probe", warning.Replace("porbe", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheckIsUnhealthyNamingFailedPlugins()
    {
        await using (var healthy = await PluginHost.StartAsync(["probe"]))
        {
            var report = await healthy.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Healthy, report.Entries["server-plugins"].Status);
        }

        await using var host = await PluginHost.StartAsync(["probe", "throwing-sync", "throwing-async"]);
        var entry = (await host.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["server-plugins"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("throwing-async", entry.Description, StringComparison.Ordinal);
        Assert.Contains("throwing-sync", entry.Description, StringComparison.Ordinal);
        Assert.Equal("Running", entry.Data["probe"]);
    }

    private static async Task AssertStatusWithinASecond(PluginHost host, string path, HttpStatusCode expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(1);
        HttpStatusCode actual;
        do
        {
            using var response = await host.Client.GetAsync(path);
            actual = response.StatusCode;
            if (actual == expected)
            {
                return;
            }

            await Task.Delay(20);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"{path} answered {actual}, not {expected}, one second after the configuration changed.");
    }
}
