using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ticker;

namespace Compose.Integration.Tests;

/// <summary>
/// The ticker sample plugin over real HTTP and WebSocket connections: its background task, its WebSocket echo endpoint
/// and its plugin-level middleware (request log, request body limit).
/// </summary>
public sealed class TickerTests
{
    private const string Prefix = "/api/plugins/ticker";
    private const string IntervalKey = "Compose:Plugins:ticker:IntervalMilliseconds";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    // ---- Background task ----

    [Fact]
    public async Task BackgroundTask_Ticks_AndTicksReportsCountAndLastTick()
    {
        await using var host = await StartAsync();

        var first = await WaitForTicksAsync(host, atLeast: 1);
        var second = await WaitForTicksAsync(host, atLeast: first.Count + 2);

        Assert.True(second.Count > first.Count, $"The count did not grow: {first.Count} then {second.Count}.");
        Assert.NotNull(first.LastTick);
        Assert.NotNull(second.LastTick);
        Assert.True(second.LastTick > first.LastTick, $"The last tick did not move: {first.LastTick:O} then {second.LastTick:O}.");
        Assert.InRange(second.LastTick!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Contains(host.Logs.Messages(LogLevel.Information), m => m.Contains("[ticker] Background task started: ticking every 50 ms", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BackgroundTask_StopsCleanlyWhenTheHostStops()
    {
        var host = await StartAsync();
        await WaitForTicksAsync(host, atLeast: 2);
        var service = host.App.Services.GetRequiredService<TickerService>();
        var state = host.App.Services.GetRequiredService<TickerState>();

        await host.App.StopAsync();

        Assert.NotNull(service.ExecuteTask);
        Assert.True(service.ExecuteTask.IsCompletedSuccessfully, $"The background task ended as {service.ExecuteTask.Status}.");
        var afterStop = state.Current.Count;
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.Equal(afterStop, state.Current.Count);
        Assert.Contains(host.Logs.Messages(LogLevel.Information), m => m.Contains($"[ticker] Background task stopped after {afterStop} tick(s).", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Entries, e => e.Level >= LogLevel.Error);
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Interval_DefaultsTo1000Milliseconds()
    {
        await using var host = await StartAsync(interval: null);

        Assert.Equal(1000, host.App.Services.GetRequiredService<IOptions<TickerOptions>>().Value.IntervalMilliseconds);
        Assert.Contains(host.Logs.Messages(LogLevel.Information), m => m.Contains("[ticker] Plugin loaded. Ticking every 1000 ms.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public async Task Interval_NotPositive_FailsThePlugin_NotTheHost(string interval)
    {
        await using var host = await StartAsync(interval: interval);

        Assert.Equal(ServerPluginState.Failed, host.Catalog.Find("ticker")!.State);
        using var ticks = await host.Client.GetAsync($"{Prefix}/ticks");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ticks.StatusCode);
        Assert.Contains(host.Logs.Messages(LogLevel.Error), m => m.Contains("'ticker'", StringComparison.Ordinal) && m.Contains("IntervalMilliseconds", StringComparison.Ordinal));
        // Compose never starts the hosted services of a plugin that failed to initialize.
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.DoesNotContain(host.Logs.Messages(LogLevel.Information), m => m.StartsWith("[ticker] Background task started", StringComparison.Ordinal));
        Assert.Equal(0, host.App.Services.GetRequiredService<TickerState>().Current.Count);
    }

    // ---- WebSocket echo ----

    [Fact]
    public async Task Echo_RoundTripsTextMessages_AndClosesWhenTheClientCloses()
    {
        await using var host = await StartAsync();
        using var socket = await ConnectAsync(host);

        // Several messages on one connection, together far over the 1 KiB request body limit (which is not for WebSockets),
        // up to the 4 KiB message limit itself.
        string[] messages = ["hello", "héllo wörld ✓", new string('a', 1000), new string('b', 3000), new string('c', TickerPlugin.MaxMessageBytes), "bye"];
        foreach (var message in messages)
        {
            await SendTextAsync(socket, message);
            var (type, echoed) = await ReceiveAsync(socket);
            Assert.Equal(WebSocketMessageType.Text, type);
            Assert.Equal(message, echoed);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", Timeout());
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);

        // The request log sees the whole WebSocket exchange as one request that switched protocols.
        await WaitForLogAsync(host, $"[ticker] GET {Prefix}/echo responded 101 in ");
    }

    [Fact]
    public async Task Echo_FragmentedMessageIsEchoedWhole()
    {
        await using var host = await StartAsync();
        using var socket = await ConnectAsync(host);

        await socket.SendAsync(Encoding.UTF8.GetBytes("frag"), WebSocketMessageType.Text, endOfMessage: false, Timeout());
        await socket.SendAsync(Encoding.UTF8.GetBytes("mented"), WebSocketMessageType.Text, endOfMessage: true, Timeout());

        Assert.Equal("fragmented", (await ReceiveAsync(socket)).Text);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Timeout());
    }

    [Theory]
    [InlineData(1)] // one frame of 4097 bytes
    [InlineData(3)] // three frames of one message, each under the limit, together over it
    public async Task Echo_OversizeMessage_ClosesWithMessageTooBig(int frames)
    {
        await using var host = await StartAsync();
        using var socket = await ConnectAsync(host);
        await SendTextAsync(socket, "small first");
        Assert.Equal("small first", (await ReceiveAsync(socket)).Text);

        var total = frames == 1 ? TickerPlugin.MaxMessageBytes + 1 : 3 * 2000;
        var payload = Encoding.UTF8.GetBytes(new string('x', total));
        var size = (total + frames - 1) / frames;
        for (var offset = 0; offset < total; offset += size)
        {
            var count = Math.Min(size, total - offset);
            await socket.SendAsync(payload.AsMemory(offset, count), WebSocketMessageType.Text, endOfMessage: offset + count == total, Timeout());
        }

        var result = await socket.ReceiveAsync(new byte[256], Timeout());
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        Assert.Contains($"{TickerPlugin.MaxMessageBytes} bytes", socket.CloseStatusDescription, StringComparison.Ordinal);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, Timeout());
        Assert.Equal(WebSocketState.Closed, socket.State);
    }

    [Fact]
    public async Task Echo_BinaryMessage_ClosesWithInvalidMessageType()
    {
        await using var host = await StartAsync();
        using var socket = await ConnectAsync(host);

        await socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, Timeout());

        var result = await socket.ReceiveAsync(new byte[256], Timeout());
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, socket.CloseStatus);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, Timeout());
    }

    [Fact]
    public async Task Echo_PlainHttpGet_Is400ProblemDetails()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.GetAsync($"{Prefix}/echo");

        using var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("WebSocket requests only", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Echo_HostWithoutUseWebSockets_Answers500NamingTheFix()
    {
        await using var host = await StartAsync(webSockets: false);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(EchoUri(host), Timeout()));

        Assert.Equal(HttpStatusCode.InternalServerError, socket.HttpStatusCode);
        Assert.Contains(host.Logs.Messages(LogLevel.Error), m => m.Contains("app.UseWebSockets()", StringComparison.Ordinal));

        // The plugin's other routes do not need the WebSocket middleware.
        using var ticks = await host.Client.GetAsync($"{Prefix}/ticks");
        Assert.Equal(HttpStatusCode.OK, ticks.StatusCode);
    }

    [Fact]
    public async Task Echo_HostStop_ClosesOpenConnectionsWithEndpointUnavailable()
    {
        var host = await StartAsync();
        using var socket = await ConnectAsync(host);
        await SendTextAsync(socket, "still there?");
        Assert.Equal("still there?", (await ReceiveAsync(socket)).Text);

        var clock = Stopwatch.StartNew();
        var stopping = host.App.StopAsync();

        var result = await socket.ReceiveAsync(new byte[256], Timeout());
        Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, socket.CloseStatus);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, Timeout());
        await stopping.WaitAsync(Patience);
        clock.Stop();

        // Well under the host's shutdown timeout (30 s), which an open connection would otherwise hold the stop for.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Stopping the host took {clock.Elapsed}.");
        await host.DisposeAsync();
    }

    // ---- Plugin-level middleware: request body limit ----

    [Fact]
    public async Task Notes_SmallBody_Is200()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.PostAsync($"{Prefix}/notes", Json("""{"text":"hello"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("received").GetBoolean());
        Assert.Equal(5, body.RootElement.GetProperty("length").GetInt32());
    }

    [Fact]
    public async Task Notes_BodyAtTheLimit_Is200()
    {
        await using var host = await StartAsync();
        var envelope = """{"text":""}""".Length;
        var text = new string('n', TickerPlugin.MaxRequestBodyBytes - envelope);

        using var response = await host.Client.PostAsync($"{Prefix}/notes", Json($$"""{"text":"{{text}}"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Notes_BodyOverTheLimit_Is413ProblemDetails()
    {
        await using var host = await StartAsync();
        var text = new string('n', TickerPlugin.MaxRequestBodyBytes);

        using var response = await host.Client.PostAsync($"{Prefix}/notes", Json($$"""{"text":"{{text}}"}"""));

        using var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains($"{TickerPlugin.MaxRequestBodyBytes} bytes", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notes_ChunkedBodyOverTheLimit_Is413ProblemDetails()
    {
        await using var host = await StartAsync();
        var text = new string('n', 4 * TickerPlugin.MaxRequestBodyBytes);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Prefix}/notes")
        {
            // No Content-Length: the limit is enforced while the body is read.
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"text":"{{text}}"}"""))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;

        using var response = await host.Client.SendAsync(request);

        using var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains($"{TickerPlugin.MaxRequestBodyBytes} bytes", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notes_ChunkedSmallBody_Is200()
    {
        await using var host = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Prefix}/notes")
        {
            Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("""{"text":"chunked"}"""))),
        };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.TransferEncodingChunked = true;

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Notes_MissingText_Is400ProblemDetails()
    {
        await using var host = await StartAsync();

        using var response = await host.Client.PostAsync($"{Prefix}/notes", Json("""{"text":"  "}"""));

        using var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("Missing required field: text", problem.RootElement.GetProperty("detail").GetString());
    }

    // ---- Plugin-level middleware: request log ----

    [Fact]
    public async Task RequestLog_WritesMethodPathStatusAndElapsedTime_ForEveryPluginRoute()
    {
        await using var host = await StartAsync();

        (await host.Client.GetAsync($"{Prefix}/ticks")).Dispose();
        (await host.Client.PostAsync($"{Prefix}/notes", Json("""{"text":"hi"}"""))).Dispose();
        (await host.Client.PostAsync($"{Prefix}/notes", Json($$"""{"text":"{{new string('n', 2000)}}"}"""))).Dispose();
        (await host.Client.GetAsync($"{Prefix}/echo")).Dispose();

        var ticks = await WaitForLogAsync(host, $"[ticker] GET {Prefix}/ticks responded 200 in ");
        await WaitForLogAsync(host, $"[ticker] POST {Prefix}/notes responded 200 in ");
        await WaitForLogAsync(host, $"[ticker] POST {Prefix}/notes responded 413 in ");
        await WaitForLogAsync(host, $"[ticker] GET {Prefix}/echo responded 400 in ");
        Assert.Matches(@" in \d+([.,]\d)? ms$", ticks);
        Assert.Equal(typeof(TickerPlugin).FullName, Assert.Single(host.Logs.Entries, e => e.Message == ticks).Category);
    }

    [Fact]
    public async Task RequestLog_IsPluginLevel_NotForOtherPluginsOrUnmatchedPaths()
    {
        await using var host = await PluginHost.StartAsync(["ticker", "hello-world"], Settings("50"));

        (await host.Client.GetAsync("/api/plugins/hello-world/hello")).Dispose();
        (await host.Client.GetAsync($"{Prefix}/missing")).Dispose();
        (await host.Client.GetAsync($"{Prefix}/ticks")).Dispose();

        await WaitForLogAsync(host, $"[ticker] GET {Prefix}/ticks responded 200 in ");
        var lines = host.Logs.Entries.Where(e => e.Message.Contains(" responded ", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        Assert.Single(lines);
    }

    // ---- Helpers ----

    private static Task<PluginHost> StartAsync(string? interval = "50", bool webSockets = true)
        => PluginHost.StartAsync(["ticker"], Settings(interval), configureApp: webSockets ? app => app.UseWebSockets() : null);

    private static Dictionary<string, string?> Settings(string? interval)
        => interval is null ? [] : new Dictionary<string, string?> { [IntervalKey] = interval };

    private static CancellationToken Timeout() => new CancellationTokenSource(Patience).Token;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static Uri EchoUri(PluginHost host)
        => new UriBuilder(host.Client.BaseAddress!) { Scheme = "ws", Path = $"{Prefix}/echo" }.Uri;

    private static async Task<ClientWebSocket> ConnectAsync(PluginHost host)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(EchoUri(host), Timeout());
        return socket;
    }

    private static Task SendTextAsync(WebSocket socket, string text)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, Timeout());

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(WebSocket socket)
    {
        var buffer = new byte[TickerPlugin.MaxMessageBytes * 2];
        var count = 0;
        ValueWebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer.AsMemory(count), Timeout());
            count += result.Count;
        }
        while (!result.EndOfMessage);

        return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, count));
    }

    private static async Task<TickSnapshot> WaitForTicksAsync(PluginHost host, long atLeast)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var json = JsonDocument.Parse(await host.Client.GetStringAsync($"{Prefix}/ticks"));
            var count = json.RootElement.GetProperty("count").GetInt64();
            var lastTick = json.RootElement.GetProperty("lastTick");
            var snapshot = new TickSnapshot(count, lastTick.ValueKind == JsonValueKind.Null ? null : lastTick.GetDateTimeOffset());
            if (snapshot.Count >= atLeast)
            {
                return snapshot;
            }

            Assert.True(clock.Elapsed < Patience, $"The count stayed at {snapshot.Count}, below {atLeast}, for {Patience}.");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for a log line starting with <paramref name="prefix"/>: the request log is written once the response is done.</summary>
    private static async Task<string> WaitForLogAsync(PluginHost host, string prefix, LogLevel level = LogLevel.Information)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (host.Logs.Messages(level).FirstOrDefault(m => m.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            Assert.True(
                clock.Elapsed < Patience,
                $"No log line starting with '{prefix}'. Logged:{Environment.NewLine}{string.Join(Environment.NewLine, host.Logs.Entries.Select(e => e.Message))}");
            await Task.Delay(20);
        }
    }

    private static async Task<JsonDocument> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
        return problem;
    }
}
