using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Compose.Testing;

namespace Compose.Integration.Tests;

/// <summary>
/// The sample plugins tested the way a plugin author tests theirs, with Compose.Testing (see docs/testing.md):
/// one plugin switched on out of the many this test project composes, a replaced service, a setting, the data
/// directory and the log lines.
/// </summary>
public sealed class SampleKitTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task HelloWorld_GreetsWithTheTimeOfTheClockItIsGiven()
    {
        var clock = new FixedTime(new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero));
        await using var host = new ComposeTestHost()
            .WithPlugins("hello-world")
            .WithServices(services => services.AddSingleton<TimeProvider>(clock)); // HelloWorld registers TimeProvider.System with TryAdd
        var client = host.CreateClient();

        using var greeting = JsonDocument.Parse(await client.GetStringAsync("/api/plugins/hello-world/hello"));

        Assert.Equal("Hello from server plugin!", greeting.RootElement.GetProperty("message").GetString());
        Assert.Equal(clock.GetUtcNow(), greeting.RootElement.GetProperty("time").GetDateTimeOffset());
        Assert.True(host.Logs.Contains("[hello-world] Plugin loaded."), host.Logs.Tail());
        Assert.All(host.Catalog.Where(e => e.Descriptor.Id != "hello-world"), e => Assert.Equal(ServerPluginState.Disabled, e.State));
    }

    [Fact]
    public async Task LlmProxy_SavesItsConfigurationInItsStoreUnderItsDataDirectory_AndNeverReturnsTheKey()
    {
        await using var host = new ComposeTestHost().WithPlugins("llm-proxy");
        var client = host.CreateClient();

        var saved = await client.PostAsJsonAsync("/api/plugins/llm-proxy/config", new { apiUrl = "http://127.0.0.1:9/v1/chat/completions", apiKey = "sk-kit-secret", model = "kit-model" });
        var status = await client.GetStringAsync("/api/plugins/llm-proxy/status");

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        // The plugin store's embedded default: one entry file under the plugin's data directory (.store/), holding the key.
        var store = Path.Combine(host.DataDirectory("llm-proxy"), ".store");
        var file = Assert.Single(Directory.GetFiles(store));
        Assert.Contains("sk-kit-secret", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        Assert.Contains("kit-model", status, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-kit-secret", status, StringComparison.Ordinal);
        Assert.StartsWith(host.DataRoot, file, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ticker_TicksAtTheConfiguredInterval_AndEchoesOverAWebSocket()
    {
        await using var host = new ComposeTestHost()
            .WithPlugins("ticker")
            .WithPluginSetting("ticker", "IntervalMilliseconds", "20")
            .ConfigureApp(app => app.UseWebSockets());
        var client = host.CreateClient();

        await host.Logs.WaitForAsync("[ticker] Background task started: ticking every 20 ms.", TimeSpan.FromSeconds(10));
        long count = 0;
        for (var attempt = 0; attempt < 100 && count == 0; attempt++)
        {
            using var ticks = JsonDocument.Parse(await client.GetStringAsync("/api/plugins/ticker/ticks"));
            count = ticks.RootElement.GetProperty("count").GetInt64();
            if (count == 0)
            {
                await Task.Delay(50);
            }
        }

        Assert.True(count > 0, host.Logs.Tail());

        var socket = await host.Server!.CreateWebSocketClient().ConnectAsync(new Uri(host.BaseAddress, "api/plugins/ticker/echo"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes("ping"), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var buffer = new byte[64];
        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal("ping", Encoding.UTF8.GetString(buffer, 0, received.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
    }
}
