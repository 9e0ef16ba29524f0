using System.Net;
using System.Text.Json;

namespace Compose.Integration.Tests;

/// <summary>Plugin routes over real HTTP: mounted at the prefix, nothing outside it, configuration honoured.</summary>
public sealed class RoutingTests
{
    [Fact]
    public async Task RoutesAreServedUnderApiPluginsId()
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"]);

        Assert.Equal("pong", await host.Client.GetStringAsync("/api/plugins/probe/ping"));
        Assert.Equal("item 42", await host.Client.GetStringAsync("/api/plugins/probe/items/42"));

        using var hello = JsonDocument.Parse(await host.Client.GetStringAsync("/api/plugins/hello-world/hello"));
        Assert.Equal("Hello from server plugin!", hello.RootElement.GetProperty("message").GetString());
        Assert.True(hello.RootElement.GetProperty("time").TryGetDateTimeOffset(out _));
    }

    [Theory]
    [InlineData("/ping")]
    [InlineData("/hello")]
    [InlineData("/api/plugins/ping")]
    [InlineData("/api/plugins/probe")]
    [InlineData("/api/plugins/probe/missing")]
    [InlineData("/api/plugins/unknown/ping")]
    [InlineData("/api/plugins/probe/items/not-a-number")]
    [InlineData("/api/plugins/hello-world/ping")]
    public async Task NothingIsServedOutsideAPluginsOwnRoutes(string path)
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"]);

        using var response = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task RoutePrefixComesFromConfiguration()
    {
        await using var host = await PluginHost.StartAsync(["probe"], new Dictionary<string, string?> { ["compose:routeprefix"] = "/extensions" });

        Assert.Equal("pong", await host.Client.GetStringAsync("/extensions/probe/ping"));
        using var old = await host.Client.GetAsync("/api/plugins/probe/ping");
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }

    [Fact]
    public async Task DisabledPluginHasNoRoutesAndNoServices()
    {
        await using var host = await PluginHost.StartAsync(["hello-world"]);

        using var response = await host.Client.GetAsync("/api/plugins/probe/ping");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(ServerPluginState.Disabled, host.Catalog.Find("probe")!.State);
        Assert.Null(host.App.Services.GetService<ProbePlugin>());
        Assert.NotNull(host.App.Services.GetService<HelloWorld.HelloWorldPlugin>());
    }

    [Fact]
    public async Task GlobalSwitchTurnsEveryPluginOff()
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"], new Dictionary<string, string?> { ["Compose:Enabled"] = "false" });

        foreach (var path in new[] { "/api/plugins/probe/ping", "/api/plugins/hello-world/hello" })
        {
            using var response = await host.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.All(host.Catalog, entry => Assert.Equal(ServerPluginState.Disabled, entry.State));
    }

    [Fact]
    public async Task ConfigureServicesReceivesThePluginsOwnSection()
    {
        await using var host = await PluginHost.StartAsync(["configured"], new Dictionary<string, string?>
        {
            ["Compose:Plugins:configured:Greeting"] = "hi from my section",
            ["Greeting"] = "root value must not leak in",
        });

        Assert.Equal("hi from my section", await host.Client.GetStringAsync("/api/plugins/configured/greeting"));
    }

    [Fact]
    public async Task MapServerPluginsReturnsAConventionBuilderForEveryPluginRoute()
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"], conventions: group => group.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers["X-Plugin-Route"] = "yes";
            return await next(context);
        }));

        foreach (var path in new[] { "/api/plugins/probe/ping", "/api/plugins/hello-world/hello" })
        {
            using var response = await host.Client.GetAsync(path);
            response.EnsureSuccessStatusCode();
            Assert.Equal("yes", Assert.Single(response.Headers.GetValues("X-Plugin-Route")));
        }
    }

    [Fact]
    public async Task CatalogListsEveryComposedPluginInDependencyOrder_TiesById()
    {
        await using var host = await PluginHost.StartAsync(["probe", "hello-world"]);

        var ids = host.Catalog.Select(e => e.Descriptor.Id).ToList();
        Assert.Equal(DependencyOrder.Expected(host.Catalog.Select(e => e.Descriptor)), ids);
        Assert.Contains("llm-proxy", ids);
        var hello = host.Catalog.Find("hello-world")!;
        Assert.Equal(ServerPluginState.Running, hello.State);
        Assert.Equal("Hello World", hello.Descriptor.Name);
        Assert.Equal("Compose.Samples.HelloWorld", hello.Descriptor.AssemblyName);
        Assert.Equal(typeof(HelloWorld.HelloWorldPlugin), hello.Descriptor.PluginType);
        Assert.Contains("Loaded plugin: Hello World (hello-world)", host.Logs.Messages(Microsoft.Extensions.Logging.LogLevel.Information));
    }
}
