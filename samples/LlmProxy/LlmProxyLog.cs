using Microsoft.Extensions.Logging;

namespace LlmProxy;

/// <summary>The plugin's log messages (source-generated: no boxing, no reflection).</summary>
internal static partial class LlmProxyLog
{
    [LoggerMessage(1, LogLevel.Information, "[llm-proxy] Plugin loaded. Configured: {Configured}")]
    public static partial void Loaded(ILogger logger, bool configured);

    [LoggerMessage(2, LogLevel.Information, "[llm-proxy] Plugin unloaded.")]
    public static partial void Unloaded(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "[llm-proxy] Upstream API answered {Status}; the body is logged at Debug level.")]
    public static partial void UpstreamError(ILogger logger, int status);

    [LoggerMessage(4, LogLevel.Debug, "[llm-proxy] Upstream API body for {Status} (first {Length} bytes, key redacted): {Body}")]
    public static partial void UpstreamErrorBody(ILogger logger, int status, int length, string body);

    [LoggerMessage(5, LogLevel.Warning, "[llm-proxy] Upstream request failed: {Message}")]
    public static partial void UpstreamUnreachable(ILogger logger, string message, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "[llm-proxy] Upstream response exceeds MaxResponseBytes ({Limit} bytes); abandoned.")]
    public static partial void UpstreamTooLarge(ILogger logger, long limit);

    [LoggerMessage(7, LogLevel.Warning, "[llm-proxy] Upstream API redirected ({Status}) to a location that is not followed: {Reason}")]
    public static partial void RedirectRefused(ILogger logger, int status, string reason);

    [LoggerMessage(8, LogLevel.Warning, "[llm-proxy] Refused a chat request that already passed through this proxy (a loop).")]
    public static partial void LoopRefused(ILogger logger);

    [LoggerMessage(9, LogLevel.Warning, "[llm-proxy] Upstream API answered 200 with a body that is not a chat completion.")]
    public static partial void UpstreamInvalid(ILogger logger);

    [LoggerMessage(10, LogLevel.Error, "[llm-proxy] Failed to load config from {Path}: {Message}")]
    public static partial void LoadFailed(ILogger logger, string path, string message, Exception exception);

    [LoggerMessage(11, LogLevel.Warning, "[llm-proxy] Ignored the saved config in {Path}: {Reason}")]
    public static partial void LoadRejected(ILogger logger, string path, string reason);

    [LoggerMessage(12, LogLevel.Information, "[llm-proxy] Imported {Path} into the plugin store; the file was renamed to {Renamed}.")]
    public static partial void Imported(ILogger logger, string path, string renamed);

    [LoggerMessage(13, LogLevel.Warning, "[llm-proxy] Did not import {Path}: the plugin store already holds a configuration (it wins); the file was renamed to {Renamed}.")]
    public static partial void ImportSkipped(ILogger logger, string path, string renamed);

    [LoggerMessage(14, LogLevel.Warning, "[llm-proxy] Could not import {Path} into the plugin store ({Message}); the file is left in place and imported at the next start.")]
    public static partial void ImportFailed(ILogger logger, string path, string message, Exception exception);

    [LoggerMessage(15, LogLevel.Warning, "[llm-proxy] Ignored the configuration in the plugin store (key '{Key}'): {Reason}")]
    public static partial void StoredRejected(ILogger logger, string key, string reason);

    [LoggerMessage(16, LogLevel.Warning, "[llm-proxy] The plugin store is unavailable: {Message}")]
    public static partial void StoreUnavailable(ILogger logger, string message, Exception exception);
}
