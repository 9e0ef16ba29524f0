using System.Net;
using System.Net.Http.Json;
using Compose;
using Compose.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ComposePlugin1.Tests;

/// <summary>The plugin in an in-process host (TestServer): its routes, its setting, its services and its logs.</summary>
public sealed class TemplatePluginTests
{
    [Fact]
    public async Task Greeting_UsesTheGreetingFromThePluginsSection()
    {
        await using var host = new ComposeTestHost()
            .WithPlugins("plugin-id")
            .WithPluginSetting("plugin-id", "Greeting", "Hi");
        var client = host.CreateClient();

        var greeting = await client.GetFromJsonAsync<Greeting>("/api/plugins/plugin-id/greeting?name=Ada");

        Assert.Equal("Hi, Ada!", greeting?.Message);
        Assert.Equal("Hi", host.Services.GetRequiredService<TemplatePluginSettings>().Greeting);
    }

    [Fact]
    public async Task Echo_ReturnsTheTextAndItsLength_OrA400Problem()
    {
        await using var host = new ComposeTestHost().WithPlugins("plugin-id");
        var client = host.CreateClient();

        var echo = await client.PostAsJsonAsync("/api/plugins/plugin-id/echo", new EchoRequest("hello"));
        var empty = await client.PostAsJsonAsync("/api/plugins/plugin-id/echo", new EchoRequest(""));

        Assert.Equal(new EchoResponse("hello", 5), await echo.Content.ReadFromJsonAsync<EchoResponse>());
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal("application/problem+json", empty.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Loads_Runs_AndStopsWithTheHost()
    {
        var host = new ComposeTestHost().WithPlugins("plugin-id");
        await host.StartAsync();

        Assert.Equal(ServerPluginState.Running, host.Plugin("plugin-id").State);
        Assert.True(host.Logs.Contains("[plugin-id] Greeting with \"Hello\"."), host.Logs.Tail());

        await host.DisposeAsync();
        Assert.True(host.Logs.Contains("[plugin-id] Stopped."), host.Logs.Tail());
    }
}

/// <summary>
/// HTTP-only tests: they run in process by default, and against a host's Native AOT publish when
/// COMPOSE_TEST_NATIVE_HOST names the host project (published once per run) or its native executable.
/// </summary>
public sealed class TemplatePluginHttpTests
{
    [Fact]
    public async Task Greeting_AndHealth_OverHttp()
    {
        await using var server = await ComposeTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Compose:Plugins:plugin-id:Greeting"] = "Howdy",
        });
        using var client = server.CreateClient();

        var greeting = await client.GetFromJsonAsync<Greeting>("api/plugins/plugin-id/greeting?name=Ada");

        Assert.Equal("Howdy, Ada!", greeting?.Message);
        Assert.Equal("Healthy", await client.GetStringAsync("health"));
        Assert.True(server.Logs.Contains("Loaded plugin: ComposePlugin1 (plugin-id)"), server.Logs.Tail());
    }
}
