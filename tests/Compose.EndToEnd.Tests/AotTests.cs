using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// samples/Host published with Native AOT: no trim or AOT warning, and the native binary (no dotnet) serves both
/// sample plugins over real HTTP, the llm-proxy plugin talking to a fake OpenAI-compatible upstream.
/// </summary>
[Trait("Category", "Aot")]
[Collection(EndToEndCollection.Name)]
public sealed class AotTests(AotPublishFixture publish) : IClassFixture<AotPublishFixture>
{
    private const string Prefix = "/api/plugins";
    private const string ApiKey = "sk-e2e-secret-0123456789abcdef";
    private const string Model = "e2e-model-1";
    private const string ReadinessPath = Prefix + "/hello-world/hello";

    [Fact]
    public void Publish_ProducesANativeExecutable_WithoutTrimOrAotWarnings()
    {
        Assert.NotNull(publish.Publish);
        var warnings = publish.TrimAndAotWarnings;
        Assert.True(
            warnings.Count == 0,
            $"The AOT publish reported {warnings.Count} trim/AOT warning(s):{Environment.NewLine}{string.Join(Environment.NewLine, warnings)}{Environment.NewLine}{publish.Publish.Describe()}");
        publish.EnsurePublished();

        // A native executable, not an IL application: no managed entry assembly next to it.
        var managedHost = Path.ChangeExtension(publish.NativeHost, ".dll");
        Assert.False(File.Exists(managedHost), $"{managedHost} exists: the host was not compiled ahead of time.");
        if (OperatingSystem.IsLinux())
        {
            var header = new byte[4];
            using (var stream = File.OpenRead(publish.NativeHost))
            {
                stream.ReadExactly(header);
            }

            Assert.Equal(new byte[] { 0x7F, (byte)'E', (byte)'L', (byte)'F' }, header);
        }
    }

    [Fact]
    public async Task NativeHost_ServesHelloWorldAndLlmProxyStatus_AndNothingOutsideThePluginRoutes()
    {
        using var data = new TempDirectory("aot-data");
        await using var host = await StartNativeHostAsync(data.Path);
        await host.DiagnoseAsync(async () =>
        {
            var hello = (await host.GetAsync($"{Prefix}/hello-world/hello")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("application/json", hello.MediaType);
            using (var json = hello.Json())
            {
                Assert.Equal("Hello from server plugin!", json.RootElement.GetProperty("message").GetString());
                var time = json.RootElement.GetProperty("time").GetDateTimeOffset();
                Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
            }

            AssertStatus(await host.GetAsync($"{Prefix}/llm-proxy/status"), configured: false, model: "not set");

            (await host.GetAsync("/hello")).AssertStatus(HttpStatusCode.NotFound);
            (await host.GetAsync("/")).AssertStatus(HttpStatusCode.NotFound);
            (await host.GetAsync($"{Prefix}/unknown/hello")).AssertStatus(HttpStatusCode.NotFound);
            (await host.GetAsync($"{Prefix}/hello-world/status")).AssertStatus(HttpStatusCode.NotFound);

            Assert.Contains("Loaded plugin: Hello World (hello-world)", host.Process.Output, StringComparison.Ordinal);
            Assert.Contains("Loaded plugin: LLM API Proxy (llm-proxy)", host.Process.Output, StringComparison.Ordinal);

            // The plugin package's web assets, published into wwwroot/_content, are served under /plugins/{id}/.
            var script = (await host.GetAsync("/plugins/hello-world/index.js")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal("text/javascript", script.MediaType);
            Assert.Contains("/api/plugins/hello-world/hello", script.Body, StringComparison.Ordinal);
            (await host.GetAsync("/plugins/hello-world/missing.js")).AssertStatus(HttpStatusCode.NotFound);
            (await host.GetAsync("/plugins/hello-world/..%2F..%2Fappsettings.json")).AssertStatus(HttpStatusCode.NotFound);

            // The catalog (source-generated JSON under AOT) names the entry script; the health check is healthy.
            using (var catalog = (await host.GetAsync(Prefix)).AssertStatus(HttpStatusCode.OK).Json())
            {
                var plugins = catalog.RootElement.GetProperty("plugins").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
                Assert.Equal("/plugins/hello-world/index.js", plugins["hello-world"].GetProperty("entryScript").GetString());
                Assert.Equal("Running", plugins["llm-proxy"].GetProperty("state").GetString());
            }

            Assert.Equal("Healthy", (await host.GetAsync("/health")).AssertStatus(HttpStatusCode.OK).Body);
        });
    }

    [Fact]
    public async Task NativeHost_LlmProxy_ConfiguresProxiesChatAndMapsUpstreamFailures()
    {
        using var data = new TempDirectory("aot-data");
        await using var upstream = await FakeUpstream.StartAsync();
        await using var host = await StartNativeHostAsync(data.Path);
        await host.DiagnoseAsync(async () =>
        {
            // Not configured yet.
            AssertStatus(await host.GetAsync($"{Prefix}/llm-proxy/status"), configured: false, model: "not set");
            AssertProblem(await host.PostJsonAsync($"{Prefix}/llm-proxy/chat", """{"messages":[{"role":"user","content":"hi"}]}"""), HttpStatusCode.ServiceUnavailable, "not configured");

            // Invalid configuration.
            AssertProblem(await host.PostJsonAsync($"{Prefix}/llm-proxy/config", "{}"), HttpStatusCode.BadRequest, "Missing required fields");
            AssertProblem(await host.PostJsonAsync($"{Prefix}/llm-proxy/config", Config("not a url")), HttpStatusCode.BadRequest, "apiUrl");
            AssertStatus(await host.GetAsync($"{Prefix}/llm-proxy/status"), configured: false, model: "not set");
            Assert.False(File.Exists(Path.Combine(data.Path, "config.json")), "An invalid configuration was saved.");

            // Configure: saved in the data directory given on the command line; the key is never returned.
            await ConfigureAsync(host, upstream.ChatCompletions);
            Assert.True(File.Exists(Path.Combine(data.Path, "config.json")), $"config.json was not written to the data directory {data.Path}.");
            var status = await host.GetAsync($"{Prefix}/llm-proxy/status");
            AssertStatus(status, configured: true, model: Model);
            Assert.DoesNotContain(ApiKey, status.Body, StringComparison.Ordinal);

            // Chat requests need a messages array.
            AssertProblem(await host.PostJsonAsync($"{Prefix}/llm-proxy/chat", "{}"), HttpStatusCode.BadRequest, "messages");
            AssertProblem(await host.PostJsonAsync($"{Prefix}/llm-proxy/chat", """{"messages":"hi"}"""), HttpStatusCode.BadRequest, "messages");
            Assert.Empty(upstream.Requests);

            // A chat round trip through the proxy.
            var chat = (await host.PostJsonAsync($"{Prefix}/llm-proxy/chat", """{"messages":[{"role":"user","content":"hi"}],"temperature":0.2}""")).AssertStatus(HttpStatusCode.OK);
            using (var json = chat.Json())
            {
                Assert.Equal(FakeUpstream.Answer, json.RootElement.GetProperty("text").GetString());
            }

            Assert.DoesNotContain(ApiKey, chat.Body, StringComparison.Ordinal);
            var sent = Assert.Single(upstream.Requests);
            Assert.Equal($"Bearer {ApiKey}", sent.Authorization);
            Assert.StartsWith("application/json", sent.ContentType, StringComparison.OrdinalIgnoreCase);
            using (var body = JsonDocument.Parse(sent.Body))
            {
                var root = body.RootElement;
                Assert.Equal(Model, root.GetProperty("model").GetString());
                Assert.Equal(0.2, root.GetProperty("temperature").GetDouble());
                var message = Assert.Single(root.GetProperty("messages").EnumerateArray());
                Assert.Equal("user", message.GetProperty("role").GetString());
                Assert.Equal("hi", message.GetProperty("content").GetString());
            }

            // Upstream answers 500: 502 naming the upstream status and body.
            await ConfigureAsync(host, upstream.ServerError);
            var error = AssertProblem(await ChatAsync(host), HttpStatusCode.BadGateway, "500");
            Assert.Contains(FakeUpstream.ErrorBody, error, StringComparison.Ordinal);

            // Upstream answers 200 without choices: 502.
            await ConfigureAsync(host, upstream.EmptyChoices);
            AssertProblem(await ChatAsync(host), HttpStatusCode.BadGateway, "empty");

            // Upstream unreachable: 502.
            await ConfigureAsync(host, new Uri($"http://127.0.0.1:{ChildProcess.FreeTcpPort()}/v1/chat/completions"));
            AssertProblem(await ChatAsync(host), HttpStatusCode.BadGateway, "unreachable");

            // Upstream slower than TimeoutSeconds (2 s on the command line, not the 120 s of appsettings.json): 504.
            await ConfigureAsync(host, upstream.Slow);
            var stopwatch = Stopwatch.StartNew();
            AssertProblem(await ChatAsync(host), HttpStatusCode.GatewayTimeout, "timed out");
            Assert.InRange(stopwatch.Elapsed, TimeSpan.FromSeconds(1.5), FakeUpstream.SlowDelay - TimeSpan.FromSeconds(5));

            Assert.Equal(4, upstream.Requests.Count(r => r.Authorization == $"Bearer {ApiKey}"));
            Assert.DoesNotContain(ApiKey, host.Process.Output, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task NativeHost_LlmProxy_ConfigurationSurvivesARestart()
    {
        using var data = new TempDirectory("aot-data");
        await using var upstream = await FakeUpstream.StartAsync();

        await using (var first = await StartNativeHostAsync(data.Path))
        {
            await first.DiagnoseAsync(async () =>
            {
                AssertStatus(await first.GetAsync($"{Prefix}/llm-proxy/status"), configured: false, model: "not set");
                await ConfigureAsync(first, upstream.ChatCompletions);
                AssertStatus(await first.GetAsync($"{Prefix}/llm-proxy/status"), configured: true, model: Model);
            });
        }

        // A new process, same data directory: configured from config.json, and the saved key is used upstream.
        await using var second = await StartNativeHostAsync(data.Path);
        await second.DiagnoseAsync(async () =>
        {
            Assert.Contains("Configured: True", second.Process.Output, StringComparison.Ordinal);
            AssertStatus(await second.GetAsync($"{Prefix}/llm-proxy/status"), configured: true, model: Model);
            var chat = (await ChatAsync(second)).AssertStatus(HttpStatusCode.OK);
            using (var json = chat.Json())
            {
                Assert.Equal(FakeUpstream.Answer, json.RootElement.GetProperty("text").GetString());
            }

            Assert.Equal($"Bearer {ApiKey}", Assert.Single(upstream.Requests).Authorization);
        });
    }

    private async Task<RunningServer> StartNativeHostAsync(string dataDirectory)
    {
        publish.EnsurePublished();
        return await RunningServer.StartAsync(
            publish.NativeHost,
            [$"--Compose:Plugins:llm-proxy:DataDirectory={dataDirectory}", "--Compose:Plugins:llm-proxy:TimeoutSeconds=2"],
            publish.PublishDirectory,
            ReadinessPath);
    }

    private static string Config(string apiUrl) => JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["apiUrl"] = apiUrl,
        ["apiKey"] = ApiKey,
        ["model"] = Model,
    });

    private static async Task ConfigureAsync(RunningServer host, Uri apiUrl)
    {
        var result = (await host.PostJsonAsync($"{Prefix}/llm-proxy/config", Config(apiUrl.ToString()))).AssertStatus(HttpStatusCode.OK);
        using var json = result.Json();
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean(), result.ToString());
        Assert.DoesNotContain(ApiKey, result.Body, StringComparison.Ordinal);
    }

    private static Task<HttpResult> ChatAsync(RunningServer host) =>
        host.PostJsonAsync($"{Prefix}/llm-proxy/chat", """{"messages":[{"role":"user","content":"hi"}],"temperature":0.2}""");

    private static void AssertStatus(HttpResult result, bool configured, string model)
    {
        result.AssertStatus(HttpStatusCode.OK);
        using var json = result.Json();
        Assert.True(json.RootElement.GetProperty("configured").GetBoolean() == configured, $"Expected configured={configured}: {result}");
        Assert.Equal(model, json.RootElement.GetProperty("model").GetString());
    }

    /// <summary>Asserts a ProblemDetails response with <paramref name="status"/> whose detail contains <paramref name="detailPart"/>; returns the detail.</summary>
    private static string AssertProblem(HttpResult result, HttpStatusCode status, string detailPart)
    {
        result.AssertStatus(status);
        Assert.True(result.MediaType == "application/problem+json", $"Expected application/problem+json: {result}");
        using var json = result.Json();
        var detail = json.RootElement.TryGetProperty("detail", out var value) ? value.GetString() : null;
        Assert.True(detail is not null && detail.Contains(detailPart, StringComparison.OrdinalIgnoreCase), $"Expected a detail containing '{detailPart}': {result}");
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        Assert.DoesNotContain(ApiKey, result.Body, StringComparison.Ordinal);
        return detail;
    }
}
