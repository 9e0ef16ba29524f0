using Microsoft.Extensions.Logging;

namespace Ticker;

/// <summary>The plugin's log lines (source-generated: no boxing, no reflection).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "[ticker] Plugin loaded. Ticking every {IntervalMilliseconds} ms.")]
    public static partial void Loaded(ILogger logger, int intervalMilliseconds);

    [LoggerMessage(2, LogLevel.Information, "[ticker] {Method} {Path} responded {StatusCode} in {ElapsedMilliseconds:0.0} ms")]
    public static partial void Request(ILogger logger, string method, string path, int statusCode, double elapsedMilliseconds);

    [LoggerMessage(3, LogLevel.Information, "[ticker] Background task started: ticking every {IntervalMilliseconds} ms.")]
    public static partial void Started(ILogger logger, double intervalMilliseconds);

    [LoggerMessage(4, LogLevel.Information, "[ticker] Background task stopped after {Count} tick(s).")]
    public static partial void Stopped(ILogger logger, long count);

    [LoggerMessage(6, LogLevel.Information, "[ticker] Echo connection closed: {Status} {Description}")]
    public static partial void EchoClosed(ILogger logger, string status, string? description);

    [LoggerMessage(7, LogLevel.Information, "[ticker] Echo connection ended without a closing handshake: {Message}")]
    public static partial void EchoFailed(ILogger logger, string message);

    [LoggerMessage(8, LogLevel.Error, "[ticker] A WebSocket request reached /echo but the host has no WebSocket middleware: call app.UseWebSockets() before app.MapServerPlugins()")]
    public static partial void NoWebSocketMiddleware(ILogger logger);
}
