using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LlmProxy;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Compose.Integration.Tests;

/// <summary>
/// samples/LlmProxy as a reference plugin under faults, over real HTTP: the proxy in a Kestrel host on 127.0.0.1,
/// talking to <see cref="FaultyUpstream"/>, another Kestrel server on 127.0.0.1.
/// </summary>
public sealed class LlmProxyTests : IAsyncLifetime
{
    private const string ApiKey = "sk-test-0123456789abcdef";
    private const string Model = "gpt-test";
    private const string Chat = "/api/plugins/llm-proxy/chat";
    private const string Config = "/api/plugins/llm-proxy/config";
    private const string Hi = """{"messages":[{"role":"user","content":"hi"}]}""";

    private readonly string _data = Path.Combine(Path.GetTempPath(), "compose-llm-" + Guid.NewGuid().ToString("N"));
    private FaultyUpstream _upstream = null!;
    private int _ownChatHits;

    public async Task InitializeAsync() => _upstream = await FaultyUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    [Fact]
    public async Task ChatRoundTripSendsTheKeyAndAViaEntry()
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/ok"));

        using var response = await PostAsync(host, Chat, Hi);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(FaultyUpstream.Answer, json.RootElement.GetProperty("text").GetString());
        var sent = Assert.Single(_upstream.Requests);
        Assert.Equal($"Bearer {ApiKey}", sent.Authorization);
        Assert.Matches("^1.1 llm-proxy-[0-9a-f]{12}$", sent.Via);
    }

    [Theory]
    [InlineData("1.1 gateway, 1.0 fred", "1.1 gateway, 1.0 fred, 1.1 llm-proxy-")]
    [InlineData("@@@ not a via", "1.1 llm-proxy-")]
    [InlineData("1.1 gateway (comment", "1.1 llm-proxy-")]
    public async Task ViaEntriesOfTheClientAreForwardedAndMalformedOnesDropped(string incoming, string forwardedPrefix)
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/ok"));
        using var request = new HttpRequestMessage(HttpMethod.Post, Chat) { Content = new StringContent(Hi, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Via", incoming);

        using var response = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith(forwardedPrefix, Assert.Single(_upstream.Requests).Via, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUpstreamErrorBodyNeverReachesTheClientAndIsLoggedRedacted()
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/echo-error"));

        using var response = await PostAsync(host, Chat, Hi);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Upstream API error (401)", body, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, body, StringComparison.Ordinal);
        Assert.DoesNotContain(FaultyUpstream.EchoPrefix, body, StringComparison.Ordinal);
        Assert.Contains(host.Logs.Messages(LogLevel.Debug), m => m.Contains(FaultyUpstream.EchoPrefix + "Bearer [redacted]", StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Entries, e => e.Message.Contains(ApiKey, StringComparison.Ordinal) || e.Exception?.ToString().Contains(ApiKey, StringComparison.Ordinal) == true);
    }

    [Theory]
    [InlineData("apiKey", "sk-abc\r\nX-Injected: 1")]
    [InlineData("apiKey", "sk-abc\n")]
    [InlineData("apiKey", "sk-\u0000abc")]
    [InlineData("apiKey", "sk-\u0085abc")]
    [InlineData("apiKey", "sk abc")]
    [InlineData("apiKey", "sk-é")]
    [InlineData("model", "gpt\r\n")]
    [InlineData("model", "gpt\u0000")]
    [InlineData("model", "gpt\u007F")]
    [InlineData("apiUrl", "http://127.0.0.1/v1\n")]
    public async Task ControlCharactersInTheConfigurationAre400(string field, string value)
    {
        await using var host = await StartAsync();
        var fields = new Dictionary<string, string> { ["apiUrl"] = _upstream.Url("/ok").ToString(), ["apiKey"] = ApiKey, ["model"] = Model };
        fields[field] = value;

        using var response = await PostAsync(host, Config, JsonSerializer.Serialize(fields));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Empty(StoreEntries());
        Assert.Contains("\"configured\":false", await host.Client.GetStringAsync("/api/plugins/llm-proxy/status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASavedKeyWithALineBreakIsIgnoredAtStartUp()
    {
        Directory.CreateDirectory(_data);
        File.WriteAllText(Path.Combine(_data, "config.json"), $$"""{"apiUrl":"{{_upstream.Url("/ok")}}","apiKey":"sk\r\nX: 1","model":"m"}""");
        await using var host = await StartAsync();

        Assert.Contains("\"configured\":false", await host.Client.GetStringAsync("/api/plugins/llm-proxy/status"), StringComparison.Ordinal);
        Assert.Contains(host.Logs.Messages(LogLevel.Warning), m => m.Contains("apiKey must not contain control characters", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(_data, "config.json")), "A refused config.json was moved away: it is left for the operator.");
        Assert.Empty(StoreEntries());
    }

    [Theory]
    [InlineData(Config, "{")]
    [InlineData(Config, "")]
    [InlineData(Config, "[1,2]")]
    [InlineData(Config, "\"text\"")]
    [InlineData(Config, """{"apiUrl":"http://127.0.0.1/","apiKey":"\ud800","model":"m"}""")]
    [InlineData(Config, """{"apiUrl":"http://127.0.0.1/","apiKey":"k","model":"\udc00x"}""")]
    [InlineData(Config, """{"apiUrl":1e309,"apiKey":"k","model":"m"}""")]
    [InlineData(Config, """{"apiUrl":"http://127.0.0.1/","apiKey":"k","model":"m",}""")]
    [InlineData(Chat, "{")]
    [InlineData(Chat, """{"messages":[{"role":"user","content":"\ud800"}]}""")]
    [InlineData(Chat, """{"messages":[{"role":"user","content":"hi"}],"temperature":1e309}""")]
    [InlineData(Chat, """{"messages":[{"role":"user","content":"hi"}],"temperature":-1e400}""")]
    [InlineData(Chat, """{"messages":[{"role":"user","content":"hi","n":1e999}]}""")]
    [InlineData(Chat, """{"messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""")]
    [InlineData(Chat, """{"messages":"hi"}""")]
    [InlineData(Chat, "null")]
    public async Task MalformedJsonLoneSurrogatesAndNonFiniteNumbersAre400(string path, string body)
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/ok"));

        using var response = await PostAsync(host, path, body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "");
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task DeepNestingAWrongContentTypeAndAnOversizedBodyAreProblemsToo()
    {
        await using var host = await StartAsync(new() { ["Compose:Plugins:llm-proxy:MaxRequestBytes"] = "4096" });
        await ConfigureAsync(host, _upstream.Url("/ok"));

        var deep = "{\"messages\":" + new string('[', 200) + new string(']', 200) + "}";
        await AssertProblemAsync(await PostAsync(host, Chat, deep), HttpStatusCode.BadRequest, "Invalid JSON");
        using var text = new StringContent(Hi, Encoding.UTF8, "text/plain");
        await AssertProblemAsync(await host.Client.PostAsync(Chat, text), HttpStatusCode.UnsupportedMediaType, "application/json");
        var big = "{\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 5000) + "\"}]}";
        await AssertProblemAsync(await PostAsync(host, Chat, big), HttpStatusCode.RequestEntityTooLarge, "4096");
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task AnUpstreamBodyLargerThanTheLimitIs502AndIsNotReadToTheEnd()
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/endless"));

        using var response = await PostAsync(host, Chat, Hi);

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "exceeds 1048576 bytes");
        var written = Assert.Single(await _upstream.EndlessStoppedAsync());
        Assert.True(written < 32L * 1024 * 1024, $"The upstream wrote {written} bytes before the proxy hung up.");

        // Declared too large in Content-Length: refused before the body is read.
        await ConfigureAsync(host, _upstream.Url("/declared-huge"));
        await AssertProblemAsync(await PostAsync(host, Chat, Hi), HttpStatusCode.BadGateway, "exceeds 1048576 bytes");
    }

    [Fact]
    public async Task ConcurrentChatsAgainstAnEndlessUpstreamAreEachAbandoned()
    {
        // The case: 3 concurrent /chat calls against a 200 MB body reached 2.9 GB before the limit existed.
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/endless"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostAsync(host, Chat, Hi)));

        foreach (var response in responses)
        {
            await AssertProblemAsync(response, HttpStatusCode.BadGateway, "exceeds 1048576 bytes");
        }

        var written = await _upstream.EndlessStoppedAsync(3);
        Assert.Equal(3, written.Length);
        Assert.All(written, w => Assert.True(w < 32L * 1024 * 1024, $"An upstream response wrote {w} bytes before the proxy hung up."));
    }

    [Fact]
    public async Task MaxResponseBytesIsConfigurable()
    {
        await using var host = await StartAsync(new() { ["Compose:Plugins:llm-proxy:MaxResponseBytes"] = "2000" });

        await ConfigureAsync(host, _upstream.Url("/sized/1900"));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host, Chat, Hi)).StatusCode);
        await ConfigureAsync(host, _upstream.Url("/sized/2100"));
        await AssertProblemAsync(await PostAsync(host, Chat, Hi), HttpStatusCode.BadGateway, "exceeds 2000 bytes");
        await ConfigureAsync(host, _upstream.Url("/sized/2100?chunked=true"));
        await AssertProblemAsync(await PostAsync(host, Chat, Hi), HttpStatusCode.BadGateway, "exceeds 2000 bytes");
    }

    [Theory]
    [InlineData(302, "ftp://127.0.0.1/v1/chat/completions")]
    [InlineData(307, "ftp://127.0.0.1/v1/chat/completions")]
    [InlineData(307, "file:///etc/passwd")]
    [InlineData(308, "gopher://127.0.0.1:70/x")]
    [InlineData(307, "https://127.0.0.1:1/v1/chat/completions")]
    [InlineData(301, "/ok")]
    [InlineData(302, "/ok")]
    [InlineData(303, "/ok")]
    [InlineData(307, "")]
    public async Task RedirectsToOtherSchemesAndPostBreakingRedirectsAre502(int status, string location)
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Redirect(status, location));

        using var response = await PostAsync(host, Chat, Hi);

        await AssertProblemAsync(response, HttpStatusCode.BadGateway, $"redirect ({status})");
        Assert.Single(_upstream.Requests); // The redirect only: nothing was followed.
    }

    [Theory]
    [InlineData(307)]
    [InlineData(308)]
    public async Task ASameSchemeRedirectThatKeepsThePostIsFollowed(int status)
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Redirect(status, "/ok"));

        using var response = await PostAsync(host, Chat, Hi);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _upstream.Requests.Count);
        Assert.All(_upstream.Requests, r => Assert.Equal($"Bearer {ApiKey}", r.Authorization)); // Same origin.
    }

    [Fact]
    public async Task RedirectsStopAfterTheLimit()
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/redirect-forever"));

        await AssertProblemAsync(await PostAsync(host, Chat, Hi), HttpStatusCode.BadGateway, "redirect (307)");
        Assert.Equal(LlmProxyPlugin.MaxRedirects + 1, _upstream.Requests.Count);
    }

    [Fact]
    public async Task ARequestThatAlreadyPassedThroughTheProxyIsRefused()
    {
        await using var host = await StartAsync();
        var ownChat = new Uri(host.Client.BaseAddress!, Chat);
        await ConfigureAsync(host, _upstream.Redirect(307, ownChat.ToString()));

        using var response = await PostAsync(host, Chat, Hi);

        // The upstream sent the proxy back to itself: the inner request is refused (508), the outer one gets 502.
        await AssertProblemAsync(response, HttpStatusCode.BadGateway, "(508)");
        Assert.Equal(2, Volatile.Read(ref _ownChatHits));
        Assert.Single(_upstream.Requests);
        Assert.Contains(host.Logs.Messages(LogLevel.Warning), m => m.Contains("already passed through this proxy", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1:{port}/api/plugins/llm-proxy/chat")]
    [InlineData("http://localhost:{port}/api/plugins/llm-proxy/chat")]
    [InlineData("http://127.0.0.2:{port}/api/plugins/llm-proxy/chat")]
    [InlineData("http://[::1]:{port}/api/plugins/llm-proxy/chat")]
    [InlineData("http://0.0.0.0:{port}/api/plugins/llm-proxy/chat")]
    [InlineData("http://2130706433:{port}/api/plugins/llm-proxy/chat")]
    [InlineData("http://127.0.0.1:{port}/API/Plugins/LLM-Proxy/Chat/")]
    [InlineData("http://127.0.0.1:{port}/api/plugins/llm-proxy/%63hat")]
    public async Task AnApiUrlAtThisHostsOwnChatIs400(string template)
    {
        await using var host = await StartAsync();
        var url = template.Replace("{port}", host.Client.BaseAddress!.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        await AssertProblemAsync(await PostAsync(host, Config, ConfigBody(url)), HttpStatusCode.BadRequest, "own /chat");
        Assert.Empty(StoreEntries());

        // The same path on another port is another host's.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(host, Config, ConfigBody($"http://127.0.0.1:{_upstream.BaseAddress.Port}/api/plugins/llm-proxy/chat"))).StatusCode);
    }

    [UnixFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheSavedConfigurationIsOwnerOnly()
    {
        await using var host = await StartAsync();
        await ConfigureAsync(host, _upstream.Url("/ok"));

        // In the file store under DataDirectory: one entry file holding the key, 0600 in a 0700 folder; no config.json.
        var entry = Assert.Single(StoreEntries());
        Assert.Contains(ApiKey, File.ReadAllText(entry), StringComparison.Ordinal);
        Assert.Equal(SafePath.OwnerOnlyFileMode, File.GetUnixFileMode(entry));
        Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(Path.GetDirectoryName(entry)!));
        Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(_data));
        Assert.False(File.Exists(Path.Combine(_data, "config.json")));
    }

    [UnixFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AConfigFileOthersCouldReadIsNarrowedImportedAndRenamedAtStartUp()
    {
        Directory.CreateDirectory(_data);
        var path = Path.Combine(_data, "config.json");
        File.WriteAllText(path, $$"""{"apiUrl":"{{_upstream.Url("/ok")}}","apiKey":"{{ApiKey}}","model":"{{Model}}"}""");
        File.SetUnixFileMode(path, SafePath.OwnerOnlyFileMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using var host = await StartAsync();

        var migrated = Path.Combine(_data, LlmProxyConfigStore.MigratedFileName);
        Assert.False(File.Exists(path));
        Assert.Equal(SafePath.OwnerOnlyFileMode, File.GetUnixFileMode(migrated));
        Assert.Contains("\"configured\":true", await host.Client.GetStringAsync("/api/plugins/llm-proxy/status"), StringComparison.Ordinal);
        Assert.Equal(SafePath.OwnerOnlyFileMode, File.GetUnixFileMode(Assert.Single(StoreEntries())));
    }

    [Fact]
    public async Task AConfigJsonOfAnEarlierVersionIsImportedOnceAndSurvivesRestarts()
    {
        Directory.CreateDirectory(_data);
        var path = Path.Combine(_data, "config.json");
        File.WriteAllText(path, $$"""{"apiUrl":"{{_upstream.Url("/ok")}}","apiKey":"{{ApiKey}}","model":"imported-model"}""");

        await using (var first = await StartAsync())
        {
            Assert.Contains("\"model\":\"imported-model\"", await first.Client.GetStringAsync("/api/plugins/llm-proxy/status"), StringComparison.Ordinal);
            Assert.Contains(first.Logs.Messages(LogLevel.Information), m => m.Contains("Imported", StringComparison.Ordinal) && m.Contains(LlmProxyConfigStore.MigratedFileName, StringComparison.Ordinal));
            using var chat = await PostAsync(first, Chat, Hi);
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
            Assert.Equal($"Bearer {ApiKey}", Assert.Single(_upstream.Requests).Authorization);
            await ConfigureAsync(first, _upstream.Url("/ok")); // a newer configuration (model gpt-test)
        }

        Assert.False(File.Exists(path));
        Assert.True(File.Exists(Path.Combine(_data, LlmProxyConfigStore.MigratedFileName)));

        // An old config.json that turns up again (a rollback, a copied folder) never overwrites the stored configuration.
        File.WriteAllText(path, $$"""{"apiUrl":"{{_upstream.Url("/ok")}}","apiKey":"sk-old","model":"stale-model"}""");
        await using var second = await StartAsync();
        var status = await second.Client.GetStringAsync("/api/plugins/llm-proxy/status");
        Assert.Contains($"\"model\":\"{Model}\"", status, StringComparison.Ordinal);
        Assert.Contains(second.Logs.Messages(LogLevel.Warning), m => m.Contains("already holds a configuration", StringComparison.Ordinal));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task AConfigurationWhoseStoredJsonExceedsTheStoreLimitIs400NotA500()
    {
        // 300 KB of '<' is a 300 KB request but 1.8 MB of stored JSON ('<' is written as \u003C): over the 1 MiB value limit.
        await using var host = await StartAsync();
        var body = $$"""{"apiUrl":"{{_upstream.Url("/ok")}}","apiKey":"{{ApiKey}}","model":"{{new string('<', 300_000)}}"}""";

        await AssertProblemAsync(await PostAsync(host, Config, body), HttpStatusCode.BadRequest, "too large to store");
        Assert.Empty(StoreEntries());
        Assert.Contains("\"configured\":false", await host.Client.GetStringAsync("/api/plugins/llm-proxy/status"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStoredValueThatIsNotAConfigurationIsNotConfiguredNever500()
    {
        await using var host = await StartAsync();
        var store = new Compose.Store.FilePluginStore(LlmProxyPlugin.Id, _data);
        foreach (var value in new[] { "{\"apiUrl\":5}", "not json", "null", "[]", """{"apiUrl":"ftp://x","apiKey":"k","model":"m"}""" })
        {
            await store.SetAsync(LlmProxyConfigStore.Key, Encoding.UTF8.GetBytes(value));

            using var status = await host.Client.GetAsync("/api/plugins/llm-proxy/status");
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Contains("\"configured\":false", await status.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            await AssertProblemAsync(await PostAsync(host, Chat, Hi), HttpStatusCode.ServiceUnavailable, "not configured");
        }

        Assert.Contains(host.Logs.Messages(LogLevel.Warning), m => m.Contains("Ignored the configuration in the plugin store", StringComparison.Ordinal));
        Assert.Empty(_upstream.Requests);
    }

    /// <summary>The entry files of the embedded file store under the plugin's DataDirectory (the configuration lives there).</summary>
    private string[] StoreEntries() => Directory.Exists(Path.Combine(_data, ".store")) ? Directory.GetFiles(Path.Combine(_data, ".store")) : [];

    private static string ConfigBody(string apiUrl) => JsonSerializer.Serialize(new Dictionary<string, string> { ["apiUrl"] = apiUrl, ["apiKey"] = ApiKey, ["model"] = Model });

    private static async Task ConfigureAsync(PluginHost host, Uri apiUrl)
    {
        using var response = await PostAsync(host, Config, ConfigBody(apiUrl.ToString()));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static Task<HttpResponseMessage> PostAsync(PluginHost host, string path, string json)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return host.Client.PostAsync(path, content);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var json = JsonDocument.Parse(body);
            Assert.Contains(detail, json.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKey, body, StringComparison.Ordinal);
        }
    }

    private Task<PluginHost> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>(settings ?? []) { ["Compose:Plugins:llm-proxy:DataDirectory"] = _data };
        return PluginHost.StartAsync(
            ["llm-proxy"],
            values,
            configureBuilder: builder => builder.Logging.SetMinimumLevel(LogLevel.Debug),
            configureApp: app => app.Use(async (context, next) =>
            {
                if (context.Request.Path.Value?.EndsWith("/chat", StringComparison.OrdinalIgnoreCase) == true)
                {
                    Interlocked.Increment(ref _ownChatHits);
                }

                await next(context);
            }));
    }
}

/// <summary>A request <see cref="FaultyUpstream"/> received.</summary>
public sealed record UpstreamCall(string Path, string? Authorization, string? Via);

/// <summary>A fake OpenAI-compatible API on 127.0.0.1 with one route per fault.</summary>
public sealed class FaultyUpstream : IAsyncDisposable
{
    public const string Answer = "Hello from the faulty upstream";
    public const string EchoPrefix = "unauthorized, you sent: ";

    /// <summary>The most <c>/endless</c> ever writes: 256 MiB (the loop is bounded even if nobody hangs up).</summary>
    public const long EndlessLimit = 256L * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<long> _endlessWrites = new();
    private readonly SemaphoreSlim _endlessStopped = new(0);

    private FaultyUpstream(WebApplication app) => _app = app;

    public Uri BaseAddress { get; private set; } = null!;

    public ConcurrentQueue<UpstreamCall> Requests { get; } = new();

    public Uri Url(string pathAndQuery) => new(BaseAddress, pathAndQuery);

    public Uri Redirect(int status, string location) => Url($"/redirect/{status}?to={Uri.EscapeDataString(location)}");

    /// <summary>How many bytes each of the first <paramref name="count"/> <c>/endless</c> responses wrote before the reader hung up (waits at most 30 s each).</summary>
    public async Task<long[]> EndlessStoppedAsync(int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(await _endlessStopped.WaitAsync(TimeSpan.FromSeconds(30)), "An /endless response did not end within 30 s.");
        }

        return [.. _endlessWrites];
    }

    public static async Task<FaultyUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new FaultyUpstream(app);
        app.Use(async (context, next) =>
        {
            upstream.Requests.Enqueue(new UpstreamCall(
                context.Request.Path.Value ?? "",
                context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null,
                context.Request.Headers.Via.Count > 0 ? context.Request.Headers.Via.ToString() : null));
            await next(context);
        });

        app.MapPost("/ok", () => Results.Text(Completion(Answer), "application/json"));
        app.MapPost("/echo-error", (HttpRequest request) => Results.Text(EchoPrefix + request.Headers.Authorization, "text/plain", statusCode: 401));
        app.MapPost("/sized/{size:int}", async (int size, bool? chunked, HttpResponse response) =>
        {
            var empty = Completion("");
            var body = Completion(new string('x', Math.Max(1, size - Encoding.UTF8.GetByteCount(empty))));
            response.ContentType = "application/json";
            if (chunked != true)
            {
                response.ContentLength = Encoding.UTF8.GetByteCount(body);
            }

            await response.WriteAsync(body);
        });
        app.MapPost("/declared-huge", async (HttpResponse response) =>
        {
            response.ContentType = "application/json";
            response.ContentLength = 2L * 1024 * 1024;
            await response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), response.HttpContext.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        });
        app.MapPost("/endless", async (HttpResponse response) =>
        {
            response.ContentType = "application/json";
            var chunk = Encoding.UTF8.GetBytes("{\"choices\":[" + new string(' ', 64 * 1024 - 12));
            long written = 0;
            try
            {
                // Once the reader has closed the connection, Kestrel turns writes into no-ops at once but cancels
                // RequestAborted a moment later, from the thread pool. Past what loopback buffers hold, each chunk
                // waits a millisecond so that the cancellation is seen before the no-op writes add up to the limit.
                while (written < EndlessLimit && !response.HttpContext.RequestAborted.IsCancellationRequested)
                {
                    var flush = await response.BodyWriter.WriteAsync(chunk, response.HttpContext.RequestAborted);
                    if (flush.IsCompleted || flush.IsCanceled)
                    {
                        break;
                    }

                    written += chunk.Length;
                    if (written > 8 * 1024 * 1024)
                    {
                        await Task.Delay(1, response.HttpContext.RequestAborted);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The reader hung up.
            }
            finally
            {
                upstream._endlessWrites.Enqueue(written);
                upstream._endlessStopped.Release();
            }
        });
        app.MapPost("/redirect/{status:int}", (int status, string to, HttpResponse response) =>
        {
            response.StatusCode = status;
            if (to.Length > 0)
            {
                response.Headers.Location = to;
            }
        });
        app.MapPost("/redirect-forever", (HttpResponse response) =>
        {
            response.StatusCode = 307;
            response.Headers.Location = "/redirect-forever";
        });

        await app.StartAsync();
        upstream.BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }

    private static string Completion(string content) =>
        $$$"""{"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{{{content}}}"}}]}""";
}
