namespace LlmProxy;

/// <summary>Settings of the llm-proxy plugin, from its section <c>Compose:Plugins:llm-proxy</c>.</summary>
public sealed class LlmProxyOptions
{
    /// <summary>The default of <see cref="MaxResponseBytes"/> and <see cref="MaxRequestBytes"/>: 1 MiB.</summary>
    public const long DefaultMaxBytes = 1024 * 1024;

    /// <summary>
    /// Gets or sets the folder of the embedded file store that holds the configuration (the API URL, key and model set
    /// through <c>POST /config</c>) when the host has no shared store backend, and where a <c>config.json</c> of an
    /// earlier version is imported from. Default: the plugin's data directory (<c>App_Data/plugins/llm-proxy</c> under
    /// the host's content root, see <c>IServerPluginContext.DataDirectory</c>). With a shared backend
    /// (<c>Compose.PostgreSql</c>) the configuration lives there and this folder only holds the file to import.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Gets or sets how long an upstream chat request may take, in seconds, before <c>/chat</c> answers 504. Default 120, as in Luker.</summary>
    public double TimeoutSeconds { get; set; } = 120;

    /// <summary>
    /// Gets or sets the largest upstream response body the proxy reads, in bytes. A response that declares more, or
    /// sends more, is abandoned (the connection is closed) and <c>/chat</c> answers 502. Default 1 MiB.
    /// </summary>
    public long MaxResponseBytes { get; set; } = DefaultMaxBytes;

    /// <summary>Gets or sets the largest request body <c>/config</c> and <c>/chat</c> accept, in bytes; more answers 413. Default 1 MiB.</summary>
    public long MaxRequestBytes { get; set; } = DefaultMaxBytes;
}
