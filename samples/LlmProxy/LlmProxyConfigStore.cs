using System.Text.Json;
using Compose;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmProxy;

/// <summary>
/// The plugin's server-side credentials, kept in <c>config.json</c> in the plugin's data folder (Luker's
/// "Credential Storage": the key never leaves the server). Writes are atomic: a crash never leaves a torn file.
/// </summary>
/// <param name="options">The plugin's settings; <see cref="LlmProxyOptions.DataDirectory"/> overrides where the file lives.</param>
/// <param name="context">The plugin's context: by default the file lives in its private data directory.</param>
/// <param name="logger">Logs a file that cannot be read.</param>
public sealed class LlmProxyConfigStore(
    IOptions<LlmProxyOptions> options,
    [FromKeyedServices(LlmProxyPlugin.Id)] IServerPluginContext context,
    ILogger<LlmProxyConfigStore> logger)
{
    private readonly Lock _writeLock = new();
    private volatile LlmProxyConfig? _config;

    /// <summary>Gets the full path of <c>config.json</c>.</summary>
    public string ConfigPath { get; } = options.Value.DataDirectory is { Length: > 0 } directory
        ? Path.Combine(Path.GetFullPath(directory), "config.json")
        : context.ResolvePath("config.json");

    /// <summary>Gets the current configuration, or <see langword="null"/> when none was saved.</summary>
    public LlmProxyConfig? Current => _config;

    /// <summary>Loads <c>config.json</c> if it exists; a file that cannot be read is logged and ignored, as in Luker.</summary>
    public void Load()
    {
        try
        {
            if (File.Exists(ConfigPath))
            {
                using var stream = File.OpenRead(ConfigPath);
                _config = JsonSerializer.Deserialize(stream, LlmProxyJsonContext.Default.LlmProxyConfig);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            logger.LogError(ex, "[llm-proxy] Failed to load config from {Path}: {Message}", ConfigPath, ex.Message);
        }
    }

    /// <summary>Saves a new configuration to <c>config.json</c> and makes it current.</summary>
    /// <param name="config">The new configuration.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(LlmProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        lock (_writeLock)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ConfigPath)!);
            var temporary = ConfigPath + ".tmp";
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(config, LlmProxyJsonContext.Indented.LlmProxyConfig));
            File.Move(temporary, ConfigPath, overwrite: true);
            _config = config;
        }
    }
}
