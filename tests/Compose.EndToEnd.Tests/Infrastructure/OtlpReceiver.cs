using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A minimal OTLP/HTTP receiver on 127.0.0.1: accepts <c>POST /v1/traces</c>, <c>/v1/metrics</c> and <c>/v1/logs</c>
/// (protobuf) and keeps each body. Protobuf carries strings as plain UTF-8, so a test can look for attribute keys and
/// values (<c>compose.plugin.id</c>, <c>hello-world</c>) in what an exporter sent without decoding the messages.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _bodies = new(StringComparer.Ordinal);

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>Gets the base URL to put in <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            receiver._bodies.GetOrAdd(signal, _ => new()).Enqueue(body.ToArray());
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Endpoint = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return receiver;
    }

    /// <summary>Gets every body received for <paramref name="signal"/> (<c>traces</c>, <c>metrics</c>, <c>logs</c>) as one Latin-1 string.</summary>
    public string Received(string signal)
        => _bodies.TryGetValue(signal, out var bodies) ? string.Concat(bodies.Select(b => Encoding.Latin1.GetString(b))) : string.Empty;

    /// <summary>Waits until every one of <paramref name="texts"/> has arrived for <paramref name="signal"/>.</summary>
    public async Task WaitForAsync(string signal, TimeSpan timeout, params string[] texts)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var received = Received(signal);
            var missing = texts.Where(t => !received.Contains(t, StringComparison.Ordinal)).ToList();
            if (missing.Count == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"OTLP {signal}: not received within {timeout.TotalSeconds:F0} s: {string.Join(", ", missing)} ({received.Length} bytes received).");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
