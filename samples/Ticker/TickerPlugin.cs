using System.Diagnostics;
using System.Net.WebSockets;
using Compose;
using Compose.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ticker;

/// <summary>
/// The server-only scenarios of Luker's "When to Use Server Plugins", in one plugin:
/// <list type="bullet">
/// <item><description>a long-lived background task: <see cref="TickerService"/> ticks every
/// <see cref="TickerOptions.IntervalMilliseconds"/>; <c>GET /api/plugins/ticker/ticks</c> returns
/// <c>{ "count": 3, "lastTick": "..." }</c>;</description></item>
/// <item><description>a WebSocket server: <c>/api/plugins/ticker/echo</c> echoes text messages of up to
/// <see cref="MaxMessageBytes"/> bytes (a larger one closes the connection with <c>1009 MessageTooBig</c>), and
/// answers a request that is not a WebSocket request with 400;</description></item>
/// <item><description>plugin-level middleware (Luker's "Using Express Middleware", <c>router.use</c>) on every route
/// of the plugin: a request log line (method, path, status, elapsed milliseconds) and a request body limit of
/// <see cref="MaxRequestBodyBytes"/> bytes, shown by <c>POST /api/plugins/ticker/notes</c>
/// (<c>{ "text": "..." }</c>; a larger body gets 413).</description></item>
/// </list>
/// Errors are ProblemDetails whose <c>detail</c> carries the message a Luker plugin puts in <c>error</c>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Host requirement:</b> the host must add the WebSocket middleware, <c>app.UseWebSockets()</c>, before
/// <c>app.MapServerPlugins()</c>. Without it a WebSocket request to <c>/echo</c> gets a 500 ProblemDetails saying so,
/// and an error is logged; the other routes work either way.
/// </para>
/// <para>
/// Settings, in <c>Compose:Plugins:ticker</c>: <c>IntervalMilliseconds</c> (default 1000). When the host stops, the
/// background task ends and open WebSocket connections are closed with <c>1001 EndpointUnavailable</c>.
/// </para>
/// </remarks>
/// <param name="state">The ticks recorded by the background task.</param>
/// <param name="options">The plugin's settings.</param>
/// <param name="logger">The plugin's logger.</param>
[ServerPlugin("ticker", Name = "Ticker", Description = "Background task, WebSocket echo and plugin-level middleware")]
public sealed class TickerPlugin(TickerState state, IOptions<TickerOptions> options, ILogger<TickerPlugin> logger) : IServerPlugin
{
    /// <summary>The largest WebSocket message <c>/echo</c> accepts, in bytes (4 KiB).</summary>
    public const int MaxMessageBytes = 4 * 1024;

    /// <summary>The largest request body any route of the plugin accepts, in bytes (1 KiB).</summary>
    public const int MaxRequestBodyBytes = 1024;

    /// <summary>How long the peer has to answer a close frame before the connection is dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Registers the plugin's settings (from its own section), the tick state, the background task (a run-once hosted
    /// service: with a shared store backend such as <c>Compose.PostgreSql</c> it ticks on one replica of the deployment
    /// at a time, and another takes over when that one dies; alone it just runs) and the plugin's JSON metadata.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The plugin's own section, <c>Compose:Plugins:ticker</c>.</param>
    public static void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TickerOptions>()
            .Bind(configuration)
            .Validate(settings => settings.IntervalMilliseconds > 0, "Compose:Plugins:ticker:IntervalMilliseconds must be a positive number of milliseconds.");
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<TickerState>();
        services.AddSingleton<TickerService>();
        services.AddRunOnceHostedService<TickerService>("ticker/ticks"); // Compose owns it: started only while the plugin serves
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Add(TickerJsonContext.Default));
    }

    /// <inheritdoc/>
    public Task InitAsync(IEndpointRouteBuilder router, CancellationToken cancellationToken)
    {
        // router.use(...): one group holding every route of the plugin, and middleware around all of them.
        var routes = router.MapGroup(string.Empty);
        routes.UseMiddleware(LogRequestAsync, LimitRequestBodyAsync);

        routes.MapGet("/ticks", () => state.Current);
        routes.MapPost("/notes", AddNote);

        // A RequestDelegate, not a route handler: the WebSocket endpoint owns the whole exchange.
        // cancellationToken is signalled when the host begins to stop: open connections are then closed.
        routes.Map("/echo", context => EchoAsync(context, cancellationToken));

        // Checked after the routes are registered: bad settings throw here, so Compose marks this plugin failed (its
        // routes answer 503) and the host and the other plugins keep running.
        Log.Loaded(logger, options.Value.IntervalMilliseconds);
        return Task.CompletedTask;
    }

    private static Results<Ok<NoteResponse>, ProblemHttpResult> AddNote(NoteRequest note)
        => string.IsNullOrWhiteSpace(note.Text)
            ? Error(StatusCodes.Status400BadRequest, "Missing required field: text")
            : TypedResults.Ok(new NoteResponse(true, note.Text.Length));

    /// <summary>Middleware: one log line per request, written when the response is done.</summary>
    private async Task LogRequestAsync(HttpContext context, RequestDelegate next)
    {
        var started = Stopwatch.GetTimestamp();
        var completed = false;
        try
        {
            await next(context);
            completed = true;
        }
        finally
        {
            // An exception that escapes before the response started becomes a 500 further up the pipeline.
            var status = completed || context.Response.HasStarted ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
            Log.Request(logger, context.Request.Method, context.Request.PathBase.Add(context.Request.Path).ToString(), status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>
    /// Middleware: request bodies of at most <see cref="MaxRequestBodyBytes"/> bytes (Express's
    /// <c>express.json({ limit })</c>). It runs before parameter binding reads the body.
    /// </summary>
    private static async Task LimitRequestBodyAsync(HttpContext context, RequestDelegate next)
    {
        if (context.WebSockets.IsWebSocketRequest)
        {
            // After the upgrade there is no HTTP body: /echo limits each message instead.
            await next(context);
            return;
        }

        // A declared length over the limit is refused before anything is read.
        if (context.Request.ContentLength > MaxRequestBodyBytes)
        {
            await BodyTooLarge().ExecuteAsync(context);
            return;
        }

        // A body without a declared length (chunked) is cut off by the server once it passes the limit.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = MaxRequestBodyBytes;
        }

        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            // A handler that reads the body itself.
            context.Response.Clear();
            await BodyTooLarge().ExecuteAsync(context);
            return;
        }

        // Generated parameter binding answers a body cut off by the server with a bare 413: give it the ProblemDetails body.
        if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await BodyTooLarge().ExecuteAsync(context);
        }
    }

    private async Task EchoAsync(HttpContext context, CancellationToken stopping)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            if (context.Features.Get<IHttpWebSocketFeature>() is null
                && context.Request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
            {
                Log.NoWebSocketMiddleware(logger);
                await Error(StatusCodes.Status500InternalServerError, "The host cannot accept WebSocket connections: it must call app.UseWebSockets() before app.MapServerPlugins().").ExecuteAsync(context);
                return;
            }

            await Error(StatusCodes.Status400BadRequest, "This endpoint accepts WebSocket requests only.").ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();

        // Cancelled when the client goes away, or CloseTimeout after this side starts the closing handshake.
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var closing = Task.CompletedTask;
        var registration = stopping.Register(() =>
        {
            // The host is stopping: start the closing handshake; the receive loop ends when the client answers.
            connection.CancelAfter(CloseTimeout);
            closing = CloseOutputQuietlyAsync(socket, WebSocketCloseStatus.EndpointUnavailable, "Server shutting down", connection.Token);
        });
        try
        {
            await EchoMessagesAsync(socket, connection);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            Log.EchoFailed(logger, ex.Message);
        }
        finally
        {
            // Waits for a callback in progress, so the socket outlives the close it sends.
            registration.Dispose();
            await closing;
        }
    }

    private async Task EchoMessagesAsync(WebSocket socket, CancellationTokenSource connection)
    {
        // One byte more than the limit: a message that fills it is too big.
        var buffer = new byte[MaxMessageBytes + 1];
        while (true)
        {
            var count = 0;
            ValueWebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer.AsMemory(count), connection.Token);
                count += received.Count;
            }
            while (!received.EndOfMessage && count <= MaxMessageBytes);

            if (received.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    // The client started the handshake: answer it.
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, connection.Token);
                }

                Log.EchoClosed(logger, socket.CloseStatus?.ToString() ?? "(no status)", socket.CloseStatusDescription);
                return;
            }

            if (count > MaxMessageBytes || received.MessageType != WebSocketMessageType.Text)
            {
                var (status, description) = count > MaxMessageBytes
                    ? (WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {MaxMessageBytes} bytes")
                    : (WebSocketCloseStatus.InvalidMessageType, "Only text messages are echoed");
                connection.CancelAfter(CloseTimeout);
                await socket.CloseAsync(status, description, connection.Token);
                Log.EchoClosed(logger, status.ToString(), description);
                return;
            }

            if (socket.State != WebSocketState.Open)
            {
                // The host is stopping and the close frame is already out: nothing more may be sent.
                continue;
            }

            await socket.SendAsync(buffer.AsMemory(0, count), WebSocketMessageType.Text, endOfMessage: true, connection.Token);
        }
    }

    private static async Task CloseOutputQuietlyAsync(WebSocket socket, WebSocketCloseStatus status, string description, CancellationToken cancellationToken)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(status, description, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is going away anyway; the receive loop reports how it ended.
        }
    }

    private static ProblemHttpResult BodyTooLarge()
        => Error(StatusCodes.Status413PayloadTooLarge, $"Request body too large: the limit is {MaxRequestBodyBytes} bytes.");

    private static ProblemHttpResult Error(int status, string message) => TypedResults.Problem(detail: message, statusCode: status);
}
