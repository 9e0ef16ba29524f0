using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>A request the fake upstream received.</summary>
/// <param name="Path">The request path.</param>
/// <param name="Authorization">The Authorization header, or null.</param>
/// <param name="ContentType">The Content-Type header, or null.</param>
/// <param name="Body">The request body.</param>
public sealed record UpstreamRequest(string Path, string? Authorization, string? ContentType, string Body);

/// <summary>
/// A fake OpenAI-compatible chat completions API: a real Kestrel server on 127.0.0.1 with one route per behaviour.
/// Every request is recorded.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string Answer = "Hello from the fake upstream!";
    public const string ErrorBody = "upstream exploded: model overloaded";

    private readonly WebApplication _app;

    private FakeUpstream(WebApplication app, Uri baseAddress, ConcurrentQueue<UpstreamRequest> requests)
    {
        _app = app;
        BaseAddress = baseAddress;
        Requests = requests;
    }

    public Uri BaseAddress { get; }

    /// <summary>Gets every request received, in order.</summary>
    public ConcurrentQueue<UpstreamRequest> Requests { get; }

    /// <summary>Gets the URL that answers a chat completion with <see cref="Answer"/>.</summary>
    public Uri ChatCompletions => new(BaseAddress, "/ok/v1/chat/completions");

    /// <summary>Gets the URL that answers 500 with <see cref="ErrorBody"/>.</summary>
    public Uri ServerError => new(BaseAddress, "/error/v1/chat/completions");

    /// <summary>Gets the URL that answers 200 with an empty <c>choices</c> array.</summary>
    public Uri EmptyChoices => new(BaseAddress, "/empty/v1/chat/completions");

    /// <summary>Gets the URL that answers only after <see cref="SlowDelay"/>.</summary>
    public Uri Slow => new(BaseAddress, "/slow/v1/chat/completions");

    /// <summary>Gets how long <see cref="Slow"/> waits before answering (much longer than the proxy's timeout).</summary>
    public static TimeSpan SlowDelay => TimeSpan.FromSeconds(30);

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var requests = new ConcurrentQueue<UpstreamRequest>();

        async Task Record(HttpContext context)
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            requests.Enqueue(new UpstreamRequest(
                context.Request.Path.Value ?? "",
                context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null,
                context.Request.ContentType,
                body));
        }

        app.MapPost("/ok/v1/chat/completions", async context =>
        {
            await Record(context);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                $$"""{"id":"chatcmpl-e2e","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{{Answer}}"},"finish_reason":"stop"}]}""");
        });

        app.MapPost("/error/v1/chat/completions", async context =>
        {
            await Record(context);
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(ErrorBody);
        });

        app.MapPost("/empty/v1/chat/completions", async context =>
        {
            await Record(context);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"id":"chatcmpl-e2e","object":"chat.completion","choices":[]}""");
        });

        app.MapPost("/slow/v1/chat/completions", async context =>
        {
            await Record(context);
            try
            {
                await Task.Delay(SlowDelay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // The proxy gave up, as it should.
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"choices":[{"message":{"role":"assistant","content":"too late"}}]}""");
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new FakeUpstream(app, new Uri(address), requests);
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
