using System.Net;
using System.Text.Json;
using Compose.EndToEnd.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.Gateway.Tests;

/// <summary>
/// What the gateway forwards, seen by an upstream in the test process (Kestrel on 127.0.0.1) that serves a catalog
/// naming one plugin and echoes the request headers it receives.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ForwardingTests
{
    [Fact]
    public async Task ClientCredentialsPassUnchangedWithForwardedHeadersAndNoHopByHopHeaders()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var topology = new Topology();
        var gateway = await topology.StartGatewayAsync(
            new Dictionary<string, RunningServer[]>(),
            new Dictionary<string, string> { ["Compose__Gateway__Hosts__echo__Addresses__0"] = upstream.Address.ToString().TrimEnd('/') });

        await gateway.DiagnoseAsync(async () =>
        {
            await GatewayTests.WaitForRoutesAsync(gateway, "echo");
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/plugins/echo/headers?x=1");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer client-token-123");
            request.Headers.TryAddWithoutValidation("Cookie", "session=abc");
            request.Headers.TryAddWithoutValidation("X-Custom", "kept");
            request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
            request.Headers.TryAddWithoutValidation("Proxy-Connection", "keep-alive");
            request.Headers.TryAddWithoutValidation("TE", "trailers");
            using var response = await gateway.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(body)!;
            var seen = new Dictionary<string, string>(headers, StringComparer.OrdinalIgnoreCase);

            Assert.Equal("Bearer client-token-123", seen["Authorization"]);
            Assert.Equal("session=abc", seen["Cookie"]);
            Assert.Equal("kept", seen["X-Custom"]);
            Assert.Equal("127.0.0.1", seen["X-Forwarded-For"]);
            Assert.Equal("http", seen["X-Forwarded-Proto"]);
            Assert.Equal($"127.0.0.1:{gateway.BaseAddress.Port}", seen["X-Forwarded-Host"]);
            Assert.False(seen.ContainsKey("Keep-Alive"), body);
            Assert.False(seen.ContainsKey("Proxy-Connection"), body);
            Assert.False(seen.ContainsKey("TE"), body);
            // The catalog credential is the gateway's, for catalog requests only: never on forwarded requests.
            Assert.False(seen.ContainsKey("X-Api-Key"), body);
            Assert.Equal("/api/plugins/echo/headers?x=1", seen[":path"]);
        });

        // And the catalog requests did carry it.
        Assert.Contains(Topology.ApiKey, upstream.CatalogKeys);
    }

    [Fact]
    public async Task AForwardThatFailsAnswers502ProblemNamingPluginAndHost()
    {
        await using var upstream = await EchoUpstream.StartAsync();
        await using var topology = new Topology();
        var gateway = await topology.StartGatewayAsync(
            new Dictionary<string, RunningServer[]>(),
            new Dictionary<string, string> { ["Compose__Gateway__Hosts__echo__Addresses__0"] = upstream.Address.ToString() });

        await gateway.DiagnoseAsync(async () =>
        {
            await GatewayTests.WaitForRoutesAsync(gateway, "echo");
            var failed = await gateway.PostJsonAsync("/api/plugins/echo/abort", "{}");
            failed.AssertStatus(HttpStatusCode.BadGateway);
            Assert.Equal("application/problem+json", failed.MediaType);
            using var problem = failed.Json();
            Assert.Equal("echo", problem.RootElement.GetProperty("plugin").GetString());
            Assert.Equal("echo", problem.RootElement.GetProperty("host").GetString());
            Assert.Contains("did not answer", problem.RootElement.GetProperty("detail").GetString());

            // One failure takes nothing out: the next request is served.
            (await gateway.GetAsync("/api/plugins/echo/headers")).AssertStatus(HttpStatusCode.OK);
        });
    }

    [Fact]
    public async Task HostsThatHangAnswerGarbageOrAreMisconfiguredAreDownWhileTheOthersServe()
    {
        await using var good = await EchoUpstream.StartAsync();
        await using var garbage = await EchoUpstream.StartAsync(catalog: "<html>not a catalog</html>");
        await using var empty = await EchoUpstream.StartAsync(catalog: "{}");
        await using var hanging = await EchoUpstream.StartAsync(catalog: null);
        await using var badId = await EchoUpstream.StartAsync(catalog: """{"routePrefix":"/api/plugins","plugins":[{"id":"{evil}","state":"Running"}]}""");
        await using var badPrefix = await EchoUpstream.StartAsync(catalog: """{"routePrefix":"/api/{**x}","plugins":[{"id":"other","state":"Running"}]}""");
        await using var topology = new Topology();
        var gateway = await topology.StartGatewayAsync(
            new Dictionary<string, RunningServer[]>(),
            new Dictionary<string, string>
            {
                ["Compose__Gateway__CatalogTimeout"] = "00:00:01",
                ["Compose__Gateway__Hosts__good__Addresses__0"] = good.Address.ToString(),
                ["Compose__Gateway__Hosts__garbage__Addresses__0"] = garbage.Address.ToString(),
                ["Compose__Gateway__Hosts__empty__Addresses__0"] = empty.Address.ToString(),
                ["Compose__Gateway__Hosts__hanging__Addresses__0"] = hanging.Address.ToString(),
                ["Compose__Gateway__Hosts__misconfigured__Addresses__0"] = "not a url",
                ["Compose__Gateway__Hosts__badid__Addresses__0"] = badId.Address.ToString(),
                ["Compose__Gateway__Hosts__badprefix__Addresses__0"] = badPrefix.Address.ToString(),
                ["Compose__Gateway__Hosts__unused__CatalogPath"] = "/x",
            });

        await gateway.DiagnoseAsync(async () =>
        {
            await GatewayTests.WaitForRoutesAsync(gateway, "echo");
            using var response = await gateway.Client.GetAsync("/api/plugins/echo/headers");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            using var catalog = (await gateway.GetAsync("/api/plugins")).Json();
            var hosts = catalog.RootElement.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("name").GetString()!, h => h.GetProperty("status").GetString());
            Assert.Equal("Up", hosts["good"]);
            Assert.Equal("Down", hosts["garbage"]);
            Assert.Equal("Down", hosts["empty"]);
            Assert.Equal("Down", hosts["hanging"]);
            Assert.Equal("Down", hosts["badid"]);
            Assert.Equal("Down", hosts["badprefix"]);
            Assert.False(hosts.ContainsKey("misconfigured"));
            Assert.False(hosts.ContainsKey("unused"));
            Assert.Equal("Degraded", (await gateway.GetAsync("/health")).Body);

            var log = gateway.Process.Output;
            Assert.Contains("the answer is not a Compose catalog", log);
            Assert.Contains("no answer within 1s", log);
            Assert.Contains("the catalog names a plugin without a valid id", log);
            Assert.Contains("the catalog's route or assets prefix is not a plain path", log);
            Assert.Contains("address not a url of host misconfigured is not an absolute http(s) URL", log);
            Assert.Contains("host unused has no addresses", log);
        });
    }

    [Fact]
    public async Task AConfigurationReloadAddsAndRemovesHostsWithoutRestart()
    {
        await using var first = await EchoUpstream.StartAsync(pluginId: "one");
        await using var second = await EchoUpstream.StartAsync(pluginId: "two");
        await using var topology = new Topology();
        var root = topology.NewDirectory("gateway-config");
        var settings = Path.Combine(root, "appsettings.json");
        await File.WriteAllTextAsync(settings, Hosts(("first", first)));
        var gateway = await topology.StartGatewayAsync(
            new Dictionary<string, RunningServer[]>(),
            new Dictionary<string, string> { ["Compose__Gateway__RefreshInterval"] = "00:10:00" }, // only a reload can change the routes in time
            root);

        await gateway.DiagnoseAsync(async () =>
        {
            await GatewayTests.WaitForRoutesAsync(gateway, "one");
            Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/api/plugins/two/x")).Status);

            await File.WriteAllTextAsync(settings, Hosts(("first", first), ("second", second)));
            await GatewayTests.WaitForRoutesAsync(gateway, "one", "two");
            (await gateway.GetAsync("/api/plugins/two/x")).AssertStatus(HttpStatusCode.OK);

            await File.WriteAllTextAsync(settings, Hosts(("second", second)));
            await Topology.EventuallyAsync(async () => (await gateway.GetAsync("/api/plugins/one/x")).Status == HttpStatusCode.NotFound, TimeSpan.FromSeconds(15), "plugin one leaves with its host");
            (await gateway.GetAsync("/api/plugins/two/x")).AssertStatus(HttpStatusCode.OK);
            Assert.Equal(1, gateway.Process.Output.Split("Application started").Length - 1);

            // SIGTERM: a clean stop (the directory is disposed once per registration it is resolved through).
            gateway.Process.Terminate();
            var exit = await gateway.Process.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(exit.ExitCode == 0, exit.Describe());
            Assert.DoesNotContain("Unhandled exception", exit.Output);
        });

        static string Hosts(params (string Name, EchoUpstream Upstream)[] hosts) =>
            "{ \"Compose\": { \"Gateway\": { \"Hosts\": { "
            + string.Join(", ", hosts.Select(h => $"\"{h.Name}\": {{ \"Addresses\": [ \"{h.Upstream.Address}\" ] }}"))
            + " } } } }";
    }

    private sealed class EchoUpstream : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private EchoUpstream(WebApplication app, Uri address)
        {
            _app = app;
            Address = address;
        }

        public Uri Address { get; }

        public System.Collections.Concurrent.ConcurrentBag<string> CatalogKeys { get; } = [];

        /// <summary>Starts the upstream; <paramref name="catalog"/> replaces its catalog body, and null makes the catalog hang.</summary>
        public static async Task<EchoUpstream> StartAsync(string pluginId = "echo", string? catalog = "")
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            EchoUpstream? self = null;
            app.MapGet("/api/plugins", async (HttpContext context) =>
            {
                self!.CatalogKeys.Add(context.Request.Headers["X-Api-Key"].ToString());
                if (catalog is null)
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }

                return Results.Text(catalog is { Length: > 0 } ? catalog : $$"""
                    {"routePrefix":"/api/plugins","assetsPrefix":"/plugins","composition":"test","plugins":[{"id":"{{pluginId}}","name":"Echo","version":"1.0.0","state":"Running"}]}
                    """, "application/json");
            });
            app.MapGet("/health", () => "Healthy");
            app.MapPost($"/api/plugins/{pluginId}/abort", (HttpContext context) => context.Abort());
            app.Map($"/api/plugins/{pluginId}/{{**rest}}", (HttpContext context) =>
            {
                var headers = context.Request.Headers.ToDictionary(pair => pair.Key, pair => pair.Value.ToString());
                headers[":path"] = context.Request.Path + context.Request.QueryString;
                return Results.Json(headers);
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            self = new EchoUpstream(app, new Uri(address));
            return self;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
