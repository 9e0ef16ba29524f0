using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Compose.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Compose.Gateway.Tests;

/// <summary>The sample gateway in front of real sample hosts, all on 127.0.0.1.</summary>
[Collection(GatewayCollection.Name)]
public sealed class GatewayTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EveryPluginRouteReachesTheHostComposingIt()
    {
        await using var topology = new Topology();
        var web = await topology.StartHostAsync(["hello-world", "ticker"]);
        var llm = await topology.StartHostAsync(["llm-proxy"]);
        var gateway = await topology.StartGatewayAsync(new Dictionary<string, RunningServer[]> { ["web"] = [web], ["llm"] = [llm] });

        await gateway.DiagnoseAsync(async () =>
        {
            await WaitForRoutesAsync(gateway, "hello-world", "ticker", "llm-proxy");

            // Plain routes, with the client's credential forwarded unchanged (the hosts check it).
            using var hello = await SendAsync(gateway, "/api/plugins/hello-world/hello");
            Assert.Equal(HttpStatusCode.OK, hello.StatusCode);
            Assert.Contains("Hello from server plugin!", await hello.Content.ReadAsStringAsync());
            using var anonymous = await gateway.Client.GetAsync("/api/plugins/hello-world/hello");
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            using var status = await SendAsync(gateway, "/api/plugins/llm-proxy/status");
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Contains("\"configured\"", await status.Content.ReadAsStringAsync());

            // The request reached the host that composes the plugin, not the other one.
            Assert.Contains("/api/plugins/llm-proxy/status", llm.Process.Output);
            Assert.DoesNotContain("/api/plugins/llm-proxy/status", web.Process.Output);
            Assert.Contains("/api/plugins/hello-world/hello", web.Process.Output);

            // Static assets, byte for byte.
            using var viaGateway = await SendAsync(gateway, "/plugins/hello-world/index.js");
            using var direct = await SendAsync(web, "/plugins/hello-world/index.js");
            Assert.Equal(HttpStatusCode.OK, viaGateway.StatusCode);
            Assert.Equal(await direct.Content.ReadAsByteArrayAsync(), await viaGateway.Content.ReadAsByteArrayAsync());
            Assert.Equal("text/javascript", viaGateway.Content.Headers.ContentType?.MediaType);

            // A WebSocket, tunnelled.
            using var socket = new ClientWebSocket();
            socket.Options.SetRequestHeader("X-Api-Key", Topology.ApiKey);
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.BaseAddress.Port}/api/plugins/ticker/echo"), deadline.Token);
            await socket.SendAsync(Encoding.UTF8.GetBytes("through the gateway"), WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            var buffer = new byte[256];
            var received = await socket.ReceiveAsync(buffer, deadline.Token);
            Assert.Equal("through the gateway", Encoding.UTF8.GetString(buffer, 0, received.Count));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, deadline.Token);

            // Unknown plugin: the gateway's own 404 problem.
            var unknown = await gateway.GetAsync("/api/plugins/no-such-plugin/x");
            unknown.AssertStatus(HttpStatusCode.NotFound);
            Assert.Equal("application/problem+json", unknown.MediaType);
            Assert.Contains("no-such-plugin", unknown.Body);

            // The gateway catalog: plugin, host, state; never the catalog credential.
            var catalog = await gateway.GetAsync("/api/plugins");
            catalog.AssertStatus(HttpStatusCode.OK);
            Assert.DoesNotContain(Topology.ApiKey, catalog.Body);
            using var json = catalog.Json();
            var plugins = json.RootElement.GetProperty("plugins").EnumerateArray().ToDictionary(p => p.GetProperty("id").GetString()!);
            Assert.Equal("web", plugins["hello-world"].GetProperty("host").GetString());
            Assert.Equal("web", plugins["ticker"].GetProperty("host").GetString());
            Assert.Equal("llm", plugins["llm-proxy"].GetProperty("host").GetString());
            Assert.All(plugins.Values, p => Assert.Equal("Running", p.GetProperty("state").GetString()));
            Assert.Equal("/plugins/hello-world/index.js", plugins["hello-world"].GetProperty("entryScript").GetString());

            var health = await gateway.GetAsync("/health");
            health.AssertStatus(HttpStatusCode.OK);
            Assert.Equal("Healthy", health.Body);

            // The hosts' catalogs name their prefixes and a composition version equal for the same packages.
            using var webCatalog = (await SendResultAsync(web, "/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
            using var llmCatalog = (await SendResultAsync(llm, "/api/plugins")).AssertStatus(HttpStatusCode.OK).Json();
            Assert.Equal("/api/plugins", webCatalog.RootElement.GetProperty("routePrefix").GetString());
            Assert.Equal("/plugins", webCatalog.RootElement.GetProperty("assetsPrefix").GetString());
            Assert.Matches("^[0-9a-f]{16}$", webCatalog.RootElement.GetProperty("composition").GetString());
            Assert.Equal(webCatalog.RootElement.GetProperty("composition").GetString(), llmCatalog.RootElement.GetProperty("composition").GetString());
            Assert.Equal(HttpStatusCode.Unauthorized, (await web.GetAsync("/api/plugins")).Status);
        });
    }

    [Fact]
    public async Task ReplicasShareTheLoadAndFailOverUntilNoneIsLeft()
    {
        await using var topology = new Topology();
        var first = await topology.StartHostAsync(["hello-world", "ticker"]);
        var second = await topology.StartHostAsync(["hello-world", "ticker"]);
        var llm = await topology.StartHostAsync(["llm-proxy"]);
        var gateway = await topology.StartGatewayAsync(new Dictionary<string, RunningServer[]> { ["web"] = [first, second], ["llm"] = [llm] });

        await gateway.DiagnoseAsync(async () =>
        {
            await WaitForRoutesAsync(gateway, "hello-world", "llm-proxy");
            const string Path = "/api/plugins/hello-world/hello";
            for (var i = 0; i < 100; i++)
            {
                using var response = await SendAsync(gateway, Path);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // Request logs are written asynchronously: wait until both replicas' logs show all 100.
            await Topology.EventuallyAsync(() => Task.FromResult(Served(first, Path) + Served(second, Path) >= 100), TimeSpan.FromSeconds(10), "the replicas logged 100 requests");
            var (a, b) = (Served(first, Path), Served(second, Path));
            output.WriteLine($"Load split across two replicas (PowerOfTwoChoices): {a} / {b}");
            Assert.True(a >= 20 && b >= 20, $"Both replicas should share the load: {a} / {b}");

            // kill -9 of one replica: within the health-check interval every request succeeds through the other.
            first.Process.Kill();
            var clock = Stopwatch.StartNew();
            var failed = 0;
            TimeSpan? recovered = null;
            var streak = 0;
            while (clock.Elapsed < TimeSpan.FromSeconds(15) && streak < 50)
            {
                using var response = await SendAsync(gateway, Path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    recovered ??= clock.Elapsed;
                    streak++;
                }
                else
                {
                    failed++;
                    recovered = null;
                    streak = 0;
                }
            }

            output.WriteLine($"After SIGKILL of one replica: {failed} failed request(s); every request succeeded from {recovered?.TotalMilliseconds:0} ms on");
            Assert.Equal(50, streak);
            // A GET whose connection the dead replica refused is retried on the other one (idempotent, nothing was sent).
            Assert.True(failed == 0, $"{failed} GET request(s) failed after the kill; they should have been retried on the live replica");
            Assert.True(recovered < TimeSpan.FromSeconds(3), $"Requests should succeed through the other replica within the health-check interval (1 s) plus a probe: recovered after {recovered}");

            // Both replicas gone: 503 naming the plugin and its host; the other host keeps serving.
            second.Process.Kill();
            HttpResult? unavailable = null;
            await Topology.EventuallyAsync(async () =>
            {
                unavailable = await SendResultAsync(gateway, Path);
                return unavailable.Status == HttpStatusCode.ServiceUnavailable;
            }, TimeSpan.FromSeconds(10), "503 once no replica of host web is left");
            Assert.Equal("application/problem+json", unavailable!.MediaType);
            using (var problem = unavailable.Json())
            {
                Assert.Equal("hello-world", problem.RootElement.GetProperty("plugin").GetString());
                Assert.Equal("web", problem.RootElement.GetProperty("host").GetString());
                Assert.Contains("hello-world", problem.RootElement.GetProperty("detail").GetString());
            }

            using var other = await SendAsync(gateway, "/api/plugins/llm-proxy/status");
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);

            await Topology.EventuallyAsync(async () => (await gateway.GetAsync("/health")).Body == "Degraded", TimeSpan.FromSeconds(10), "the gateway health check is Degraded");
            using var catalog = (await gateway.GetAsync("/api/plugins")).Json();
            var hosts = catalog.RootElement.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("name").GetString()!);
            Assert.Equal("Down", hosts["web"].GetProperty("status").GetString());
            Assert.Equal("Up", hosts["llm"].GetProperty("status").GetString());
        });
    }

    [Fact]
    public async Task SwitchedOffAndAmbiguousPluginsLeaveTheRoutes()
    {
        await using var topology = new Topology();
        var root = topology.NewDirectory("host-root");
        await File.WriteAllTextAsync(System.IO.Path.Combine(root, "appsettings.json"), Settings(ticker: true, hello: true));
        var main = await topology.StartHostAsync(["hello-world", "ticker", "llm-proxy"], root);
        var extra = await topology.StartHostAsync(["hello-world"]);
        var gateway = await topology.StartGatewayAsync(new Dictionary<string, RunningServer[]> { ["main"] = [main], ["extra"] = [extra] });

        await gateway.DiagnoseAsync(async () =>
        {
            await WaitForRoutesAsync(gateway, "ticker", "llm-proxy");

            // hello-world runs on both hosts: an error naming both, never a silent pick.
            var ambiguous = await gateway.GetAsync("/api/plugins/hello-world/hello");
            ambiguous.AssertStatus(HttpStatusCode.ServiceUnavailable);
            Assert.Contains("hosts extra and main", ambiguous.Body);
            Assert.Contains("plugin hello-world is composed and running on hosts extra and main", gateway.Process.Output);
            using (var catalog = (await gateway.GetAsync("/api/plugins")).Json())
            {
                var hello = catalog.RootElement.GetProperty("plugins").EnumerateArray().Single(p => p.GetProperty("id").GetString() == "hello-world");
                Assert.Equal("Ambiguous", hello.GetProperty("state").GetString());
                Assert.Contains("extra and main", hello.GetProperty("error").GetString());
            }

            Assert.Equal("Degraded", (await gateway.GetAsync("/health")).Body);

            // Switch ticker and hello-world off on main (a configuration reload, no restart).
            (await SendResultAsync(gateway, "/api/plugins/ticker/ticks")).AssertStatus(HttpStatusCode.OK);
            await File.WriteAllTextAsync(System.IO.Path.Combine(root, "appsettings.json"), Settings(ticker: false, hello: false));

            HttpResult? gone = null;
            await Topology.EventuallyAsync(async () =>
            {
                gone = await SendResultAsync(gateway, "/api/plugins/ticker/ticks");
                return gone.MediaType == "application/problem+json" && gone.Status == HttpStatusCode.NotFound;
            }, TimeSpan.FromSeconds(15), "ticker leaves the gateway's routes");
            Assert.Contains("switched off", gone!.Body);

            // hello-world now runs on one host only: routed to it.
            await Topology.EventuallyAsync(async () => (await SendResultAsync(gateway, "/api/plugins/hello-world/hello")).Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "hello-world routed to extra");
            Assert.Equal("Healthy", (await gateway.GetAsync("/health")).Body);
            (await SendResultAsync(gateway, "/api/plugins/llm-proxy/status")).AssertStatus(HttpStatusCode.OK);
        });

        static string Settings(bool ticker, bool hello) => $$"""
            { "Compose": { "Plugins": { "ticker": { "Enabled": {{(ticker ? "true" : "false")}} }, "hello-world": { "Enabled": {{(hello ? "true" : "false")}} } } } }
            """;
    }

    [Fact]
    public async Task WrongCatalogCredentialRoutesNothingAndNeverLeaksTheKey()
    {
        await using var topology = new Topology();
        var web = await topology.StartHostAsync(["hello-world"]);
        var gateway = await topology.StartGatewayAsync(
            new Dictionary<string, RunningServer[]> { ["web"] = [web] },
            new Dictionary<string, string> { ["Compose__Gateway__CatalogCredential__Value"] = "wrong-key-7d1e" });

        await gateway.DiagnoseAsync(async () =>
        {
            var response = await SendResultAsync(gateway, "/api/plugins/hello-world/hello");
            response.AssertStatus(HttpStatusCode.NotFound);
            Assert.Equal("Degraded", (await gateway.GetAsync("/health")).Body);
            var catalog = await gateway.GetAsync("/api/plugins");
            Assert.DoesNotContain("wrong-key-7d1e", catalog.Body);
            Assert.DoesNotContain("wrong-key-7d1e", gateway.Process.Output);
            Assert.Contains("401", gateway.Process.Output);
        });
    }

    internal static Task<HttpResponseMessage> SendAsync(RunningServer server, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Api-Key", Topology.ApiKey);
        return server.Client.SendAsync(request);
    }

    internal static async Task<HttpResult> SendResultAsync(RunningServer server, string path)
    {
        using var response = await SendAsync(server, path);
        return new HttpResult("GET", path, response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Waits until the gateway's catalog shows <paramref name="ids"/> Running on some host.</summary>
    internal static Task WaitForRoutesAsync(RunningServer gateway, params string[] ids) =>
        Topology.EventuallyAsync(async () =>
        {
            var catalog = await gateway.GetAsync("/api/plugins");
            if (catalog.Status != HttpStatusCode.OK)
            {
                return false;
            }

            using var json = catalog.Json();
            var running = json.RootElement.GetProperty("plugins").EnumerateArray()
                .Where(p => p.GetProperty("state").GetString() == "Running").Select(p => p.GetProperty("id").GetString()).ToHashSet();
            return ids.All(running.Contains);
        }, TimeSpan.FromSeconds(20), $"the gateway routes {string.Join(", ", ids)}");

    private static int Served(RunningServer server, string path)
    {
        var needle = $"Request starting HTTP/1.1 GET http://127.0.0.1:{server.BaseAddress.Port}{path}";
        var count = 0;
        var output = server.Process.Output;
        for (var at = output.IndexOf(needle, StringComparison.Ordinal); at >= 0; at = output.IndexOf(needle, at + needle.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GatewayCollection
{
    public const string Name = "Gateway (real processes)";
}
