using System.Text.Json;
using Compose;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmProxy;

/// <summary>
/// The plugin's server-side credentials, kept in <c>config.json</c> in the plugin's data folder (Luker's
/// "Credential Storage": the key never leaves the server). Writes go through <see cref="SafePath.WriteAllBytesAtomic"/>:
/// atomic (a crash never leaves a torn file) and owner-only on Unix (<c>0600</c>, in a <c>0700</c> folder); reads go
/// through <see cref="SafePath.OpenRead"/>, which refuses a swapped-in link or a hard link.
/// </summary>
/// <param name="options">The plugin's settings; <see cref="LlmProxyOptions.DataDirectory"/> overrides where the file lives.</param>
/// <param name="context">The plugin's context: by default the file lives in its private data directory.</param>
/// <param name="logger">Logs a file that cannot be read.</param>
public sealed class LlmProxyConfigStore(
    IOptions<LlmProxyOptions> options,
    [FromKeyedServices(LlmProxyPlugin.Id)] IServerPluginContext context,
    ILogger<LlmProxyConfigStore> logger)
{
    private const string FileName = "config.json";

    private readonly Lock _writeLock = new();
    private volatile LlmProxyConfig? _config;

    /// <summary>Gets the folder that holds <c>config.json</c>.</summary>
    public string FolderPath { get; } = options.Value.DataDirectory is { Length: > 0 } directory
        ? Path.GetFullPath(directory)
        : context.DataDirectory;

    /// <summary>Gets the full path of <c>config.json</c>.</summary>
    public string ConfigPath => Path.Combine(FolderPath, FileName);

    /// <summary>Gets the current configuration, or <see langword="null"/> when none was saved.</summary>
    public LlmProxyConfig? Current => _config;

    /// <summary>
    /// Loads <c>config.json</c> if it exists; a file that cannot be read, or whose values <c>POST /config</c> would
    /// refuse (a key with a line break saved by an older version), is logged and ignored, as in Luker. On Unix a file
    /// others could read (saved <c>0644</c> by an older version) is narrowed to <c>0600</c> first.
    /// </summary>
    public void Load()
    {
        try
        {
            if (!File.Exists(ConfigPath))
            {
                return;
            }

            NarrowToOwner(ConfigPath);
            using var stream = SafePath.OpenRead(FolderPath, FileName);
            var config = JsonSerializer.Deserialize(stream, LlmProxyJsonContext.Default.LlmProxyConfig);
            var reason = config is null ? "it is empty" : Check(config);
            if (reason is not null)
            {
                LlmProxyLog.LoadRejected(logger, ConfigPath, reason);
                return;
            }

            _config = config;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            LlmProxyLog.LoadFailed(logger, ConfigPath, ex.Message, ex);
        }
    }

    // A config.json written by an older version (0644) holds the key readable by every local user: make it 0600.
    private static void NarrowToOwner(string path)
    {
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~SafePath.OwnerOnlyFileMode & ~UnixFileMode.UserExecute) != 0)
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) & SafePath.OwnerOnlyFileMode);
        }
    }

    /// <summary>Saves a new configuration to <c>config.json</c> (atomically, owner-only) and makes it current.</summary>
    /// <param name="config">The new configuration.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(LlmProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        lock (_writeLock)
        {
            SafePath.WriteAllBytesAtomic(FolderPath, FileName, JsonSerializer.SerializeToUtf8Bytes(config, LlmProxyJsonContext.Indented.LlmProxyConfig));
            _config = config;
        }
    }

    /// <summary>Returns why a configuration is refused (the rules of <c>POST /config</c>), or <see langword="null"/>.</summary>
    /// <param name="config">The configuration.</param>
    /// <returns>The reason, or <see langword="null"/>.</returns>
    public static string? Check(LlmProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (string.IsNullOrWhiteSpace(config.ApiUrl) || string.IsNullOrWhiteSpace(config.ApiKey) || string.IsNullOrWhiteSpace(config.Model))
        {
            return "Missing required fields: apiUrl, apiKey, model";
        }

        var reason = RequestValidation.CheckText("apiUrl", config.ApiUrl, asciiToken: false)
            ?? RequestValidation.CheckText("apiKey", config.ApiKey, asciiToken: true)
            ?? RequestValidation.CheckText("model", config.Model, asciiToken: false);
        if (reason is not null)
        {
            return reason;
        }

        return Uri.TryCreate(config.ApiUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? null
            : "apiUrl must be an absolute http or https URL";
    }
}
