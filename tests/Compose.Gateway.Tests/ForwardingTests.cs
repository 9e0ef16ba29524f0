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

        public static async Task<EchoUpstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            EchoUpstream? self = null;
            app.MapGet("/api/plugins", (HttpContext context) =>
            {
                self!.CatalogKeys.Add(context.Request.Headers["X-Api-Key"].ToString());
                return Results.Text("""
                    {"routePrefix":"/api/plugins","assetsPrefix":"/plugins","composition":"test","plugins":[{"id":"echo","name":"Echo","version":"1.0.0","state":"Running"}]}
                    """, "application/json");
            });
            app.MapGet("/health", () => "Healthy");
            app.Map("/api/plugins/echo/{**rest}", (HttpContext context) =>
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
