namespace LlmProxy;

/// <summary>Settings of the llm-proxy plugin, from its section <c>Compose:Plugins:llm-proxy</c>.</summary>
public sealed class LlmProxyOptions
{
    /// <summary>
    /// Gets or sets the folder that holds <c>config.json</c> (the API URL, key and model set through
    /// <c>POST /config</c>). Default: the plugin's data directory (<c>App_Data/plugins/llm-proxy</c> under the
    /// host's content root, see <c>IServerPluginContext.DataDirectory</c>).
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>Gets or sets how long an upstream chat request may take, in seconds, before <c>/chat</c> answers 504. Default 120, as in Luker.</summary>
    public double TimeoutSeconds { get; set; } = 120;
}
